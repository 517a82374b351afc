"""The directories in the vendor cabinet: distributions with uploaded images served by the
application, releases with their files, and the release settings."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from licentia.core.models import AuditEvent
from licentia.releases.models import Distribution, Release, ReleaseSettings
from tests.releases.conftest import make_distribution, publish, today

pytestmark = pytest.mark.django_db

PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
    b"\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00"
    b"\x00\x00IEND\xaeB`\x82"
)


@pytest.fixture(autouse=True)
def media_in_tmp(settings, tmp_path) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"


def distribution_form(**fields) -> dict:
    return {
        "published": "on",
        "identifier": "buh",
        "paid": "on",
        "kind": "configuration",
        "name_ru": "Бухгалтерия",
        "screenshots-TOTAL_FORMS": "0",
        "screenshots-INITIAL_FORMS": "0",
        **fields,
    }


def test_a_distribution_with_a_logo_is_saved_audited_and_its_logo_served(
    manager_client, client
) -> None:
    logo = SimpleUploadedFile("logo.PNG", PNG, content_type="image/png")
    answer = manager_client.post(
        reverse("admin:releases_distribution_add"), distribution_form(logo=logo)
    )
    assert answer.status_code == 302, answer.content.decode()[:2000]
    distribution = Distribution.objects.get()
    assert distribution.logo.name.startswith("releases/logos/")
    assert distribution.logo.name.endswith(".png")
    assert AuditEvent.objects.filter(action="distribution.create").exists()

    served = client.get(distribution.logo.url)
    assert served.status_code == 200
    assert b"".join(served.streaming_content) == PNG
    assert client.get("/media/releases/../../secret_key").status_code in (400, 404)


def test_a_logo_that_is_no_image_is_refused(manager_client) -> None:
    script = SimpleUploadedFile("logo.svg", b"<svg onload='alert(1)'/>")
    answer = manager_client.post(
        reverse("admin:releases_distribution_add"), distribution_form(logo=script)
    )
    assert answer.status_code == 200
    assert not Distribution.objects.exists()


def test_a_second_release_of_the_same_version_is_refused_however_it_is_written(
    manager_client,
) -> None:
    distribution = make_distribution()
    publish(distribution, "4.0", today())
    answer = manager_client.post(
        reverse("admin:releases_release_add"),
        {
            "distribution": distribution.pk,
            "version": "4.0.0",
            "released_on": today().strftime("%d.%m.%Y"),
            "files-TOTAL_FORMS": "1",
            "files-INITIAL_FORMS": "0",
            "files-0-name": "setup.zip",
            "files-0-url": "https://files.example.ru/setup.zip",
            "files-0-size": "1",
            "files-0-position": "0",
            "compatibility-TOTAL_FORMS": "0",
            "compatibility-INITIAL_FORMS": "0",
        },
    )
    assert answer.status_code == 200
    assert "уже есть релиз этой версии" in answer.content.decode() or (
        "release of this version already" in answer.content.decode()
    )
    assert Release.objects.count() == 1


def test_the_directories_and_settings_open_for_a_read_only_user(client, read_only_user) -> None:
    distribution = make_distribution()
    release = publish(distribution, "1.0", today())
    client.force_login(read_only_user)
    for url in (
        reverse("admin:releases_distribution_changelist"),
        reverse("admin:releases_distribution_change", args=[distribution.pk]),
        reverse("admin:releases_release_changelist"),
        reverse("admin:releases_release_change", args=[release.pk]),
        reverse("admin:releases_releasemail_changelist"),
    ):
        page = client.get(url)
        assert page.status_code == 200, url
        assert "Бухгалтерия" in page.content.decode() or "releasemail" in url
    settings_page = client.get(reverse("admin:releases_releasesettings_changelist"), follow=True)
    assert settings_page.status_code == 200


def test_the_release_settings_are_saved_with_an_audit_event(manager_client) -> None:
    url = reverse("admin:releases_releasesettings_change", args=[1])
    manager_client.get(reverse("admin:releases_releasesettings_changelist"))
    answer = manager_client.post(
        url,
        {
            "cdn_host": "cdn.example.ru",
            "prerelease_networks": "203.0.113.0/24",
            "mail_delay_minutes": "60",
            "mail_daily_limit": "100",
        },
    )
    assert answer.status_code == 302
    current = ReleaseSettings.objects.get()
    assert (current.cdn_host, current.mail_delay_minutes) == ("cdn.example.ru", 60)
    assert AuditEvent.objects.filter(action="release_settings.update").exists()

    wrong = manager_client.post(
        url,
        {
            "cdn_host": "cdn.example.ru",
            "prerelease_networks": "not a network",
            "mail_delay_minutes": "60",
            "mail_daily_limit": "100",
        },
    )
    assert wrong.status_code == 200
    assert ReleaseSettings.objects.get().prerelease_networks == "203.0.113.0/24"
