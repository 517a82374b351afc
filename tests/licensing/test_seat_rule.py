"""The rule "an open session holds its seat" exists as an ORM filter, a check of one session
and SQL written out for the hot path: all three must agree on every kind of session."""

import itertools
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from licentia.catalog.models import Binding, Feature
from licentia.licensing import queries
from licentia.licensing.models import Session
from licentia.licensing.selectors import seat_held

pytestmark = pytest.mark.django_db


def test_the_filter_the_check_and_the_sql_agree(key) -> None:
    now = timezone.now()
    past, future = now - timedelta(minutes=1), now + timedelta(minutes=1)
    feature = Feature.objects.get(pk=10)
    kinds = itertools.product(Binding.values, [None, past], [None, past, future], [None, past])
    for number, (binding, ended, holds_until, released) in enumerate(kinds):
        Session.objects.create(
            key=key,
            feature=feature,
            license_type="USER",
            binding=binding,
            unit=f"u{number}",
            started_at=now - timedelta(hours=1),
            last_heartbeat_at=now - timedelta(hours=1),
            lease_expires_at=holds_until or future,
            bound_until=holds_until if binding == Binding.BOUND else None,
            holds_until=holds_until,
            ended_at=ended,
            released_at=released,
        )

    by_filter = set(Session.objects.filter(seat_held(now)).values_list("unit", flat=True))
    by_check = {s.unit for s in Session.objects.all() if s.holds_seat(now)}
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT s.unit FROM licensing_session s WHERE {queries.SEAT_HELD_SQL}",  # noqa: S608
            {"moment": connection.ops.adapt_datetimefield_value(now)},
        )
        by_sql = {unit for (unit,) in cursor.fetchall()}

    assert by_filter == by_check == by_sql
    assert 0 < len(by_filter) < Session.objects.count()
