from datetime import timedelta

import pytest
from django.db import IntegrityError, connection, transaction
from django.forms.models import model_to_dict
from django.utils import timezone

from licentia.catalog.models import Feature
from licentia.core.audit import Actor
from licentia.core.rawsql import insert, models_from_rows, select_list
from licentia.keys.services import license_key_generate
from licentia.licensing.models import Session
from tests.factories import make_client

pytestmark = pytest.mark.django_db


def _session(**fields) -> Session:
    key = license_key_generate(client=make_client(), actor=Actor.system("tests"))
    Feature.objects.get_or_create(id=10, defaults={"name_ru": "Учёт"})
    now = timezone.now()
    return Session(
        key=key,
        feature_id=10,
        license_type="USER",
        binding="floating",
        unit="u@h",
        started_at=now,
        last_heartbeat_at=now,
        lease_expires_at=now + timedelta(minutes=10),
        **fields,
    )


def test_a_refused_statement_raises_the_same_error_as_the_orm() -> None:
    first = _session()
    insert(first)

    with pytest.raises(IntegrityError), transaction.atomic():
        insert(_session(public_id=first.public_id))

    assert Session.objects.count() == 1


def test_rows_read_and_written_by_hand_match_the_orm() -> None:
    key = license_key_generate(client=make_client(), actor=Actor.system("tests"))
    Feature.objects.create(id=10, name_ru="Учёт")
    now = timezone.now()
    written = Session(
        key=key,
        feature=Feature.objects.get(pk=10),
        license_type="HOST",
        binding="bound",
        unit="srv-1",
        user="Иванов",
        host="srv-1",
        database="Бухгалтерия",
        fingerprint={"machine_id": "abc", "диск": "C:"},
        ip="10.0.0.7",
        started_at=now,
        last_heartbeat_at=now,
        lease_expires_at=now + timedelta(minutes=10),
        bound_until=None,
    )

    insert(written)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {select_list(Session, 's')} FROM licensing_session s")  # noqa: S608
        [read] = models_from_rows(Session, cursor.fetchall())

    by_orm = Session.objects.get(pk=written.pk)
    assert model_to_dict(read) == model_to_dict(by_orm)
    assert read.public_id == written.public_id == by_orm.public_id
    assert read.lease_expires_at == now + timedelta(minutes=10)
    assert read.fingerprint == {"machine_id": "abc", "диск": "C:"}
