import pytest

pytestmark = pytest.mark.django_db


def test_the_protocol_is_described_by_the_served_openapi(client) -> None:
    schema = client.get("/api/app/v1/openapi.json").json()
    docs = client.get("/api/app/v1/docs")

    assert set(schema["paths"]) == {
        "/api/app/v1/trial",
        "/api/app/v1/license",
        "/api/app/v1/capture",
        "/api/app/v1/heartbeat",
        "/api/app/v1/release",
        "/api/app/v1/tokens/consume",
        "/api/app/v1/public-key",
        "/api/app/v1/coupon",
        "/api/app/v1/releases",
        "/api/app/v1/metrics",
    }
    assert "409" in schema["paths"]["/api/app/v1/capture"]["post"]["responses"]
    assert docs.status_code == 200
    assert b"openapi.json" in docs.content
    assert b"cdn." not in docs.content  # the page works on a server without internet
