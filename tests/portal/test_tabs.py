import contextlib
import json
from datetime import timedelta

from django.contrib.auth.models import Group
from django.test import Client as HttpClient
from django.urls import reverse
from django.utils import timezone

from licentia.catalog.models import LicenseType
from licentia.core.models import ActorKind, AuditEvent, VendorSettings
from licentia.core.roles import FULL_ACCESS
from licentia.coupons.models import Activation, CouponKind, Door
from licentia.coupons.services import Row, coupon_batch_generate
from licentia.licensing.models import EndReason, Problem, Session
from licentia.licensing.refusals import Refusal
from licentia.licensing.services.sessions import session_capture, session_release
from licentia.licensing.units import Unit
from licentia.portal.models import SignInAddress
from tests.factories import StaffUserFactory, make_product
from tests.portal.conftest import ACTOR, Company


def _chart_data(page: str) -> dict:
    return json.loads(
        page.split('id="chart-data" type="application/json">')[1].split("</script>")[0]
    )


def _host_seat(company: Company, host: str) -> Session:
    granted = session_capture(key_number=company.key.number, feature_id=20, unit=Unit(host=host))
    session_release(session_id=granted.session.public_id)
    return Session.objects.get(pk=granted.session.pk)


def test_unbinding_a_bound_host_frees_the_seat_for_the_next_capture_through_the_protocol(
    portal: HttpClient, ours: Company, client: HttpClient
) -> None:
    seat = _host_seat(ours, "old-server")
    refused = HttpClient().post(
        "/api/app/v1/capture",
        {"key": ours.key.number, "feature_id": 20, "host": "new-server"},
        content_type="application/json",
    )
    assert refused.json()["code"] == 2008
    monitor = portal.get("/my/monitor/").content.decode()
    assert "old-server" in monitor
    assert f"/my/monitor/{seat.public_id}/reset/" in monitor

    response = portal.post(f"/my/monitor/{seat.public_id}/reset/")

    assert response.status_code == 302
    seat.refresh_from_db()
    assert seat.end_reason == EndReason.RESET_BY_CLIENT
    captured = HttpClient().post(
        "/api/app/v1/capture",
        {"key": ours.key.number, "feature_id": 20, "host": "new-server"},
        content_type="application/json",
    )
    assert captured.status_code == 200, captured.content
    assert captured.json()["type"] == "HOST"
    event = AuditEvent.objects.get(action="session.reset")
    assert event.actor_kind == ActorKind.CLIENT
    assert event.actor_label == "buh@romashka.ru (ООО Ромашка)"


def test_the_clients_reset_shows_in_the_vendors_monitor_history(
    portal: HttpClient, ours: Company, client: HttpClient
) -> None:
    seat = _host_seat(ours, "old-server")
    portal.post(f"/my/monitor/{seat.public_id}/reset/")
    manager = StaffUserFactory(username="boss", language="en")
    manager.groups.add(Group.objects.get(name=FULL_ACCESS))
    vendor = HttpClient()
    vendor.force_login(manager)

    history = vendor.get("/licensing/session/?tab=history").content.decode()

    assert "old-server" in history
    assert "reset by client" in history


def test_resets_stop_at_the_vendors_limit_per_key_in_30_days(
    portal: HttpClient, ours: Company
) -> None:
    VendorSettings.objects.update_or_create(pk=1, defaults={"client_resets_per_30_days": 2})
    old = _host_seat(ours, "host-0")
    Session.objects.filter(pk=old.pk).update(
        ended_at=timezone.now() - timedelta(days=31), end_reason=EndReason.RESET_BY_CLIENT
    )
    for n in (1, 2):
        seat = _host_seat(ours, f"host-{n}")
        assert portal.post(f"/my/monitor/{seat.public_id}/reset/").status_code == 302
    third = _host_seat(ours, "host-3")
    page = portal.get("/my/monitor/").content.decode()
    assert "Reset limit reached: contact the vendor" in page
    assert f"/my/monitor/{third.public_id}/reset/" not in page

    refused = portal.post(f"/my/monitor/{third.public_id}/reset/")

    assert refused.status_code == 409
    assert "contact the vendor" in refused.content.decode()
    third.refresh_from_db()
    assert third.ended_at is None


def test_the_summary_adds_up_the_keys_and_links_the_occupied_figure_to_the_monitor(
    portal: HttpClient, ours: Company
) -> None:
    from licentia.keys.services import key_line_add, license_key_generate

    second = license_key_generate(client=ours.client, actor=ACTOR)
    key_line_add(key=second, product=make_product(3, (10, LicenseType.USER, 3, False)), actor=ACTOR)
    session_capture(key_number=ours.key.number, feature_id=10, unit=Unit(user="anna", host="h1"))
    session_capture(key_number=second.number, feature_id=10, unit=Unit(user="oleg", host="h2"))

    page = portal.get("/my/summary/").content.decode()

    row = page.split("Фича 10 (10)")[1].split("</tr>")[0]
    assert [cell.split("<")[0].split(">")[-1] for cell in row.split('class="num">')[1:]] == [
        "5",
        "",
        "3",
    ]
    assert 'href="/my/monitor/?feature=10&amp;type=USER">2</a>' in row
    filtered = portal.get("/my/monitor/?feature=10&type=USER").content.decode()
    assert "anna" in filtered
    assert "oleg" in filtered


def test_keys_read_their_terms_and_state_in_words(portal: HttpClient, ours: Company) -> None:
    from licentia.keys.services import key_line_add

    trial = make_product(4, (30, LicenseType.USER, 1, False), trial_days=14)
    key_line_add(
        key=ours.key,
        product=trial,
        actor=ACTOR,
        is_trial=True,
        starts_at=timezone.now() - timedelta(days=4),
        # Local noon ten days on, whatever the hour now: ten days left by the calendar.
        expires_at=timezone.localtime().replace(hour=12, minute=0) + timedelta(days=10),
    )

    page = portal.get("/my/keys/").content.decode()

    assert "Expires in 10 days" in page
    assert "Perpetual" in page
    assert "active" in page
    assert "2 USER Фича 10 (10)" in page


def test_statistics_chart_seats_per_day_and_feature_and_refusals_per_reason(
    portal: HttpClient, ours: Company
) -> None:
    session_capture(key_number=ours.key.number, feature_id=10, unit=Unit(user="a", host="h"))
    session_capture(key_number=ours.key.number, feature_id=20, unit=Unit(host="h1"))
    with contextlib.suppress(Refusal):
        session_capture(key_number=ours.key.number, feature_id=20, unit=Unit(host="h2"))
    Problem.objects.update(count=3)

    response = portal.get("/my/stats/")

    page = response.content.decode()
    data = _chart_data(page)
    today = timezone.localdate().isoformat()
    assert len(data["captures"]["labels"]) == 30
    assert data["captures"]["labels"][-1] == today
    assert {d["label"]: d["data"][-1] for d in data["captures"]["datasets"]} == {
        "Фича 10 (10)": 1,
        "Фича 20 (20)": 1,
    }
    [refusals] = data["refusals"]["datasets"]
    assert refusals["label"].startswith("2008:")
    assert refusals["data"][-1] == 3
    assert "/static/unfold/js/chart/chart.js" in page
    assert "<script>" not in page  # nothing inline: the CSP allows none
    week = portal.get("/my/stats/?days=7").content.decode()
    assert len(_chart_data(week)["captures"]["labels"]) == 7


def test_a_coupon_is_activated_through_the_client_cabinets_door(
    portal: HttpClient, ours: Company
) -> None:
    extra = make_product(5, (40, LicenseType.USER, 1, False))
    batch = coupon_batch_generate(
        kind=CouponKind.NEW_PRODUCT, rows=[Row(product=extra)], actor=ACTOR
    )
    code = batch.coupons.get().code

    done = portal.post("/my/coupon/", {"key": ours.key.pk, "code": code.lower()})

    assert done.status_code == 200
    assert f"Coupon {code} is activated on key {ours.key.number}" in done.content.decode()
    activation = Activation.objects.get()
    assert activation.door == Door.CLIENT_CABINET
    assert activation.actor_label == "buh@romashka.ru (ООО Ромашка)"
    again = portal.post("/my/coupon/", {"key": ours.key.pk, "code": code})
    assert again.status_code == 422
    assert "2041" in again.content.decode()
    unknown = portal.post("/my/coupon/", {"key": ours.key.pk, "code": "nonsense"})
    assert "2040" in unknown.content.decode()


def test_settings_change_the_mail_language_alert_email_and_sign_in_addresses(
    portal: HttpClient, ours: Company
) -> None:
    saved = portal.post(
        "/my/settings/",
        {"cabinet_language": "en", "language": "en", "alert_email": "Alerts@Romashka.ru"},
    )
    assert saved.status_code == 302
    assert saved.cookies["django_language"].value == "en"
    ours.client.refresh_from_db()
    assert (ours.client.language, ours.client.alert_email) == ("en", "alerts@romashka.ru")
    update = AuditEvent.objects.get(action="client.update")
    assert update.actor_kind == ActorKind.CLIENT

    bad = portal.post("/my/settings/", {"cabinet_language": "de", "language": "en"})
    assert bad.status_code == 422

    portal.post("/my/settings/addresses/", {"email": "Boss@Romashka.ru"})
    assert list(SignInAddress.objects.values_list("email", flat=True)) == ["boss@romashka.ru"]
    duplicate = portal.post("/my/settings/addresses/", {"email": "buh@romashka.ru"})
    assert duplicate.status_code == 422
    assert "may sign in already" in duplicate.content.decode()
    address = SignInAddress.objects.get()
    portal.post(f"/my/settings/addresses/{address.pk}/remove/")
    assert not SignInAddress.objects.exists()


def test_a_manager_opens_the_client_cabinet_read_only_and_it_is_audited(
    ours: Company, client: HttpClient
) -> None:
    seat = _host_seat(ours, "old-server")
    manager = StaffUserFactory(username="boss", language="en")
    manager.groups.add(Group.objects.get(name=FULL_ACCESS))
    client.force_login(manager)
    card = client.get(f"/clients/client/{ours.client.pk}/change/").content.decode()
    assert "Open the client cabinet" in card

    opened = client.get(reverse("admin:clients_client_detail_open_portal", args=[ours.client.pk]))
    assert opened.status_code == 302
    page = client.get("/my/monitor/").content.decode()

    assert "old-server" in page
    assert "read only" in page
    assert f"/my/monitor/{seat.public_id}/reset/" not in page
    assert client.post(f"/my/monitor/{seat.public_id}/reset/").status_code == 403
    seat.refresh_from_db()
    assert seat.ended_at is None
    event = AuditEvent.objects.get(action="portal.view_as")
    assert (event.actor_kind, event.actor_label) == (ActorKind.STAFF, "boss")


def test_a_manager_mails_or_shows_a_sign_in_link_from_the_client_card(
    ours: Company, client: HttpClient
) -> None:
    from tests.portal.conftest import sign_in_mails

    manager = StaffUserFactory(username="boss", language="en")
    manager.groups.add(Group.objects.get(name=FULL_ACCESS))
    client.force_login(manager)
    url = reverse("admin:clients_client_detail_sign_in_link", args=[ours.client.pk])

    assert "buh@romashka.ru" in client.get(url).content.decode()
    client.post(url, {"email": "buh@romashka.ru", "how": "mail"})
    assert [n.recipient for n in sign_in_mails()] == ["buh@romashka.ru"]
    shown = client.post(url, {"email": "buh@romashka.ru", "how": "show"}).content.decode()
    link = shown.split('id="sign-in-link"')[0].rsplit('value="', 1)[1].split('"')[0]
    assert "/my/link/" in link
    assert HttpClient().post("/" + link.split("/", 3)[3]).status_code == 302
    assert AuditEvent.objects.filter(action="portal.link_issue", actor_label="boss").count() == 2
