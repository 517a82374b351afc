import subprocess
import sys

import pytest
from django.test import Client as HttpClient

from licentia.api.models import ApiKey, ApiKeyDay
from licentia.api.services import api_key_create, api_key_revoke
from licentia.core.models import AuditEvent, VendorSettings
from tests.api.vendor.conftest import ACTOR

pytestmark = pytest.mark.django_db


def test_a_key_is_stored_as_a_hash_and_shown_once(token_of) -> None:
    new = api_key_create(name="1C:УТ", role="sales", actor=ACTOR)
    key_id, secret = new.token.split(".")

    stored = ApiKey.objects.get(pk=int(key_id))
    assert secret not in stored.secret_hash
    assert len(stored.secret_hash) == 64
    assert AuditEvent.objects.filter(action="api_key.create", object_id=key_id).exists()
    assert secret not in str(AuditEvent.objects.get(action="api_key.create").after)


def test_a_call_with_the_key_is_answered_and_counted(api) -> None:
    answer = api("get", "me", role="support")

    assert answer.status_code == 200
    assert answer.json()["role"] == "support"
    assert ApiKeyDay.objects.get().calls == 1
    assert ApiKey.objects.get().last_used_at is not None


@pytest.mark.parametrize(
    "authorization",
    ["", "Bearer", "Bearer nonsense", "Bearer 1.wrong", "Basic dXNlcjpwYXNz", "Bearer 99.x"],
)
def test_missing_or_wrong_credentials_get_401_json(
    client: HttpClient, token_of, authorization: str
) -> None:
    token_of("full")
    headers = {"Authorization": authorization} if authorization else {}
    answer = client.get("/api/v1/me", headers=headers)

    assert answer.status_code == 401
    assert answer.json()["code"] == 4010
    assert answer["WWW-Authenticate"] == "Bearer"


def test_a_wrong_secret_of_a_real_key_gets_401(client: HttpClient, token_of) -> None:
    key_id, _secret = token_of("full").split(".")

    answer = client.get("/api/v1/me", headers={"Authorization": f"Bearer {key_id}.guess"})

    assert answer.status_code == 401


def test_a_revoked_key_gets_401(client: HttpClient) -> None:
    new = api_key_create(name="old", role="full", actor=ACTOR)
    api_key_revoke(key=new.key, actor=ACTOR)

    answer = client.get("/api/v1/me", headers={"Authorization": f"Bearer {new.token}"})

    assert answer.status_code == 401
    assert AuditEvent.objects.filter(action="api_key.revoke").exists()


def test_calls_past_the_rate_get_429_with_retry_after(api) -> None:
    VendorSettings.objects.filter(pk=1).update(api_calls_per_minute=3)

    answers = [api("get", "me") for _ in range(4)]

    assert [answer.status_code for answer in answers] == [200, 200, 200, 429]
    assert answers[-1].json()["code"] == 4290
    assert 1 <= int(answers[-1]["Retry-After"]) <= 60


def test_an_unknown_path_under_the_api_is_a_json_404(api) -> None:
    answer = api("get", "no/such/thing")

    assert answer.status_code == 404
    assert answer.json()["code"] == 4040


def test_the_api_is_described_by_its_openapi_with_a_docs_page(client: HttpClient) -> None:
    schema = client.get("/api/v1/openapi.json").json()
    docs = client.get("/api/v1/docs")

    assert "/api/v1/me" in schema["paths"]
    assert schema["components"]["securitySchemes"]["ApiKeyBearer"]["scheme"] == "bearer"
    assert docs.status_code == 200
    assert b"cdn." not in docs.content


def test_the_command_line_makes_and_revokes_keys(tmp_path, monkeypatch, capsys) -> None:
    from licentia.cli import main

    monkeypatch.setenv("LICENTIA_DATA_DIR", str(tmp_path))
    main(["apikey", "create", "--name", "1C", "--role", "readonly"])
    key = ApiKey.objects.get(name="1C")
    token = capsys.readouterr().out.strip()
    assert key.role == "readonly"
    assert token.startswith(f"{key.pk}.")
    assert (
        HttpClient().get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).json()["id"]
        == key.pk
    )

    main(["apikey", "revoke", str(key.pk)])
    key.refresh_from_db()
    assert key.revoked_at is not None


def test_the_command_line_refuses_an_unknown_role() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "licentia.cli", "apikey", "create", "--name", "x", "--role", "god"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2
    assert "invalid choice" in result.stderr


def test_a_wrong_method_is_a_json_405(api) -> None:
    answer = api("delete", "me")

    assert answer.status_code == 405
    assert answer.json()["code"] == 4050
    assert "fields" in answer.json()


def test_a_body_too_large_is_a_json_413(api, settings) -> None:
    settings.MAX_BODY_BYTES = 100

    answer = api("post", "trials/new", {"lastresultid": "0" * 200})

    assert answer.status_code == 413
    assert answer.json()["code"] == 4130
