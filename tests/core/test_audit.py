import pytest
from django.contrib.auth.models import Group
from django.db import transaction
from django.urls import reverse

from licentia.core.audit import (
    Actor,
    AuditOutsideTransactionError,
    audit_record,
    audit_record_many,
    snapshot,
)
from licentia.core.models import AuditEvent, User
from licentia.core.roles import SUPPORT
from tests.factories import DistributorFactory

pytestmark = pytest.mark.django_db


@pytest.mark.django_db(transaction=True)
def test_it_refuses_to_record_outside_a_transaction() -> None:
    with pytest.raises(AuditOutsideTransactionError):
        audit_record(actor=Actor.system(), action="anything")


def test_creating_a_user_in_the_cabinet_is_audited_without_the_password(
    manager_client, full_access_user
) -> None:
    support = Group.objects.get(name=SUPPORT)

    response = manager_client.post(
        reverse("admin:core_user_add"),
        {
            "username": "helpdesk",
            "email": "helpdesk@vendor.ru",
            "language": "en",
            "groups": [support.pk],
            "password1": "a-long-enough-passphrase",
            "password2": "a-long-enough-passphrase",
            "usable_password": "true",
        },
    )

    assert response.status_code == 302, response.context["adminform"].form.errors
    created = User.objects.get(username="helpdesk")
    assert created.is_staff
    assert list(created.groups.all()) == [support]
    event = AuditEvent.objects.get(action="user.create")
    assert event.actor_user == full_access_user
    assert event.object_id == str(created.pk)
    assert event.after["groups"] == [support.pk]
    assert "password" not in event.after


def test_a_role_change_shows_in_the_event_before_and_after(manager_client) -> None:
    target = User.objects.create_user(username="anna", is_staff=True)
    support = Group.objects.get(name=SUPPORT)

    manager_client.post(
        reverse("admin:core_user_change", args=[target.pk]),
        {
            "username": "anna",
            "language": "ru",
            "is_active": "on",
            "is_staff": "on",
            "groups": [support.pk],
            "date_joined_0": "2026-01-01",
            "date_joined_1": "10:00:00",
        },
    )

    event = AuditEvent.objects.get(action="user.update")
    assert event.before["groups"] == []
    assert event.after["groups"] == [support.pk]


def test_deleting_a_user_keeps_a_copy_in_the_log(manager_client) -> None:
    target = User.objects.create_user(username="leaver", email="leaver@vendor.ru", is_staff=True)

    manager_client.post(reverse("admin:core_user_delete", args=[target.pk]), {"post": "yes"})

    assert not User.objects.filter(username="leaver").exists()
    event = AuditEvent.objects.get(action="user.delete")
    assert event.before["email"] == "leaver@vendor.ru"


def test_the_log_is_searchable_by_user_and_read_only(manager_client, full_access_user) -> None:
    other = User.objects.create_user(username="other")
    with transaction.atomic():
        audit_record(actor=Actor.staff(full_access_user), action="client.update", instance=other)
        audit_record(actor=Actor.system("nightly sweep"), action="session.timeout")
    url = reverse("admin:core_auditevent_changelist")

    found = manager_client.get(url, {"q": "nightly"}).context["cl"].result_list
    assert [event.action for event in found] == ["session.timeout"]
    by_user = manager_client.get(url, {"q": full_access_user.username}).context["cl"].result_list
    assert [event.action for event in by_user] == ["client.update"]

    event = AuditEvent.objects.get(action="session.timeout")
    detail = manager_client.get(reverse("admin:core_auditevent_change", args=[event.pk]))
    assert detail.status_code == 200
    assert 'name="_save"' not in detail.content.decode()
    deletion = manager_client.post(
        reverse("admin:core_auditevent_delete", args=[event.pk]), {"post": "yes"}
    )
    assert deletion.status_code == 403
    assert AuditEvent.objects.filter(pk=event.pk).exists()


def test_setting_a_users_password_is_audited_without_the_password(manager_client) -> None:
    target = User.objects.create_user(username="forgetful", is_staff=True)

    response = manager_client.post(
        reverse("admin:auth_user_password_change", args=[target.pk]),
        {"password1": "a-new-long-passphrase", "password2": "a-new-long-passphrase"},
    )

    assert response.status_code == 302
    target.refresh_from_db()
    assert target.check_password("a-new-long-passphrase")
    event = AuditEvent.objects.get(action="user.set_password")
    assert event.object_id == str(target.pk)
    assert "a-new-long-passphrase" not in str(event.before) + str(event.after)


def test_events_recorded_many_at_once_read_back_like_those_recorded_one_by_one(
    full_access_user,
) -> None:
    actor = Actor.staff(full_access_user, ip="10.0.0.7")
    distributors = [DistributorFactory(name=f"Партнёр {n}") for n in range(3)]

    with transaction.atomic():
        audit_record(actor=actor, action="distributor.import", instance=distributors[0])
        written = audit_record_many(
            actor=actor,
            action="distributor.import",
            entries=[(distributor, None, snapshot(distributor)) for distributor in distributors],
        )

    one, *many = AuditEvent.objects.filter(action="distributor.import").order_by("id")
    assert written == 3
    fields = ("actor_kind", "actor_user", "actor_label", "action", "ip", "object_type", "before")
    for event in many:
        assert [getattr(event, name) for name in fields] == [getattr(one, name) for name in fields]
    assert [event.object_repr for event in many] == ["Партнёр 0", "Партнёр 1", "Партнёр 2"]
    assert many[2].object_id == str(distributors[2].pk)
    assert many[2].after["name"] == "Партнёр 2"
    assert many[0].created_at is not None
