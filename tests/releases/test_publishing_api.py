"""/api/v1/releases: the build server publishes, updates, lists and withdraws releases."""

from datetime import date

import pytest

from licentia.core.models import AuditEvent
from licentia.releases.models import MailState, Release, ReleaseFile, ReleaseMail
from tests.releases.conftest import make_distribution

pytestmark = pytest.mark.django_db


def release_body(distribution_id: int, version: str = "4.0.10", **fields) -> dict:
    return {
        "distribution_id": distribution_id,
        "version": version,
        "released_on": "2030-03-01",
        "whats_new_ru": "Исправления",
        "files": [
            {
                "name": "setup.zip",
                "url": "https://files.example.ru/4.0.10/setup.zip",
                "size": 2048,
                "md5": "a" * 32,
                "sha256": "b" * 64,
            }
        ],
        "compatibility": [{"configuration": "БП", "min_version": "3.0", "max_version": ""}],
        **fields,
    }


def test_publishing_twice_creates_once_and_then_updates(api) -> None:
    distribution = make_distribution()
    created = api("post", "releases", release_body(distribution.pk))
    updated = api(
        "post",
        "releases",
        release_body(distribution.pk, version="4.0.10.0", whats_new_ru="Исправления и новое"),
    )

    assert created.status_code == 201
    assert updated.status_code == 200
    assert created.json()["id"] == updated.json()["id"]
    release = Release.objects.get()
    assert release.whats_new_ru == "Исправления и новое"
    assert release.version == "4.0.10"
    assert ReleaseFile.objects.get().sha256 == "b" * 64
    assert updated.json()["compatibility"] == [
        {"configuration": "БП", "min_version": "3.0", "max_version": ""}
    ]
    assert AuditEvent.objects.filter(action="release.create", actor_kind="api_key").count() == 1
    assert AuditEvent.objects.filter(action="release.update").count() == 1


def test_the_list_is_newest_first_by_version(api) -> None:
    distribution = make_distribution()
    for version in ("4.0.9", "4.0.10", "4.0.8"):
        api("post", "releases", release_body(distribution.pk, version=version))
    answer = api("get", "releases", {"distribution_id": distribution.pk})
    assert answer.status_code == 200, answer.content
    assert [row["version"] for row in answer.json()] == ["4.0.10", "4.0.9", "4.0.8"]


def test_withdrawing_by_delete_or_by_pre_release_cancels_unsent_mail(api) -> None:
    from tests.releases.conftest import make_key

    distribution = make_distribution()
    first = api("post", "releases", release_body(distribution.pk, version="1.0")).json()
    second = api("post", "releases", release_body(distribution.pk, version="2.0")).json()
    key = make_key()
    ReleaseMail.objects.create(release_id=first["id"], client=key.client, key=key)
    ReleaseMail.objects.create(release_id=second["id"], client=key.client, key=key)

    gone = api("delete", f"releases/{first['id']}")
    api("post", "releases", release_body(distribution.pk, version="2.0", prerelease=True))

    assert gone.status_code == 204
    assert not Release.objects.filter(pk=first["id"]).exists()
    assert ReleaseMail.objects.get().state == MailState.CANCELLED
    assert Release.objects.get().mail_due_at is None
    assert api("delete", f"releases/{first['id']}").status_code == 404


@pytest.mark.parametrize("role", ["readonly", "support", "sales"])
def test_only_a_full_access_key_publishes(api, role: str) -> None:
    distribution = make_distribution()
    answer = api("post", "releases", release_body(distribution.pk), role=role)
    assert answer.status_code == 403
    assert answer.json()["code"] == 4030
    assert not Release.objects.exists()


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"version": "4.0-beta"}, "version"),
        ({"files": []}, "files"),
        ({"released_on": "yesterday"}, "released_on"),
    ],
)
def test_bad_input_is_422_with_field_errors(api, fields: dict, field: str) -> None:
    distribution = make_distribution()
    answer = api("post", "releases", release_body(distribution.pk, **fields))
    assert answer.status_code == 422
    assert field in answer.json()["fields"]


def test_an_unknown_distribution_is_404(api) -> None:
    answer = api("post", "releases", release_body(999))
    assert answer.status_code == 404
    assert date(2030, 3, 1)  # the body's date is a plain date
