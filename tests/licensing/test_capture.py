from datetime import timedelta

import psycopg
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from licentia.catalog.models import LicenseType
from licentia.keys.services import key_line_add, key_line_end, key_set_blocked, license_key_generate
from licentia.licensing.models import EndReason, Problem, Session
from licentia.licensing.refusals import Refusal
from licentia.licensing.services.sessions import (
    session_capture,
    session_heartbeat,
    session_release,
    session_reset,
)
from licentia.licensing.services.sweep import sessions_sweep
from licentia.licensing.units import Unit
from tests.factories import make_client, make_product
from tests.licensing.conftest import ACTOR

pytestmark = pytest.mark.django_db


def capture(call, key, feature_id=10, **unit):
    return call("capture", {"key": key.number, "feature_id": feature_id, **unit})


def test_a_user_captures_a_seat_and_capturing_again_keeps_the_same_one(call, key) -> None:
    first = capture(call, key, user="Иванов", host="buh-01")
    again = capture(call, key, user="Иванов", host="BUH-01")

    assert first.status_code == 200
    body = first.json()
    assert body["type"] == "USER"
    assert body["binding"] == "floating"
    assert body["lease_seconds"] == 600
    assert again.json()["session_id"] == body["session_id"]
    assert Session.objects.filter(key=key, ended_at__isnull=True).count() == 1


def test_the_seat_past_capacity_is_refused_with_2008_and_recorded_as_a_problem(call, key) -> None:
    capture(call, key, user="Иванов", host="buh-01")
    capture(call, key, user="Петров", host="buh-02")

    refused = capture(call, key, user="Сидоров", host="buh-03")
    capture(call, key, user="Сидоров", host="buh-03")

    assert refused.status_code == 409
    assert refused.json()["code"] == 2008
    problem = Problem.objects.get()
    assert (problem.key, problem.code, problem.feature_id, problem.count) == (key, 2008, 10, 2)
    assert problem.unit == "Сидоров@buh-03"


@pytest.mark.parametrize(
    ("number", "status", "code"),
    [
        ("DEMO-12345", 422, 2026),
        ("DEMO-00000-00000-00000-00000", 404, 2009),
    ],
)
def test_a_malformed_or_unknown_key_is_refused(call, key, number, status, code) -> None:
    answer = call("capture", {"key": number, "feature_id": 10, "user": "u", "host": "h"})

    assert (answer.status_code, answer.json()["code"]) == (status, code)
    assert Problem.objects.get().code == code


def test_a_key_typed_in_another_formatting_is_the_same_key(call, key) -> None:
    typed = key.number.lower().replace("-", " ")

    assert (
        capture(call, key, user="u", host="h").json()["session_id"]
        == (
            call("capture", {"key": typed, "feature_id": 10, "user": "u", "host": "h"}).json()[
                "session_id"
            ]
        )
    )


def test_a_blocked_key_refuses_with_2060_and_blocking_ends_its_sessions(call, key) -> None:
    capture(call, key, user="u", host="h")

    key_set_blocked(key=key, blocked=True, actor=ACTOR)
    answer = capture(call, key, user="u", host="h")

    assert (answer.status_code, answer.json()["code"]) == (403, 2060)
    assert Session.objects.get().end_reason == EndReason.KEY_BLOCKED


def test_a_feature_the_key_never_held_is_2061_and_an_ended_one_is_2011(call, key) -> None:
    assert capture(call, key, feature_id=99, user="u", host="h").json()["code"] == 2061

    key_line_end(line=key.lines.get(), actor=ACTOR)
    answer = capture(call, key, user="u", host="h")

    assert (answer.status_code, answer.json()["code"]) == (403, 2011)


def test_a_unit_missing_for_the_type_is_an_invalid_request(call, key) -> None:
    answer = capture(call, key, feature_id=20, user="u")

    assert answer.status_code == 422
    assert answer.json()["code"] == 4220
    assert set(answer.json()["errors"]) == {"host"}


def test_heartbeat_extends_the_lease_and_release_ends_the_session(call, key) -> None:
    session_id = capture(call, key, user="u", host="h").json()["session_id"]
    before = Session.objects.get().lease_expires_at

    beat = call("heartbeat", {"session_id": session_id})
    released = call("release", {"session_id": session_id})
    twice = call("release", {"session_id": session_id})
    late = call("heartbeat", {"session_id": session_id})

    assert beat.status_code == 200
    assert Session.objects.get().last_heartbeat_at > Session.objects.get().started_at
    assert timezone.datetime.fromisoformat(beat.json()["lease_expires_at"]) >= before
    assert released.json()["bound"] is False
    assert twice.status_code == 200
    assert (late.status_code, late.json()["code"]) == (404, 2062)
    assert Session.objects.get().end_reason == EndReason.RELEASED


def test_an_unknown_session_is_2062(call, key) -> None:
    answer = call("release", {"session_id": "6b3f1b2c-0000-4000-8000-000000000000"})

    assert (answer.status_code, answer.json()["code"]) == (404, 2062)


def test_a_floating_seat_is_free_the_moment_its_lease_ends_without_a_sweep(key) -> None:
    now = timezone.now()
    session_capture(key_number=key.number, feature_id=10, unit=Unit("a", "h1"), at=now)
    session_capture(key_number=key.number, feature_id=10, unit=Unit("b", "h2"), at=now)
    later = now + timedelta(seconds=601)

    third = session_capture(key_number=key.number, feature_id=10, unit=Unit("c", "h3"), at=later)

    assert third.session.unit == "c@h3"
    with pytest.raises(Refusal) as late_heartbeat:
        session_heartbeat(session_id=Session.objects.get(unit="a@h1").public_id, at=later)
    assert late_heartbeat.value.code == 2062


def test_a_bound_host_seat_survives_release_until_a_reset(call, key) -> None:
    session_id = capture(call, key, feature_id=20, user="u", host="srv-1").json()["session_id"]

    released = call("release", {"session_id": session_id})
    other_host = capture(call, key, feature_id=20, user="u", host="srv-2")
    same_host = capture(call, key, feature_id=20, user="other", host="srv-1")

    assert released.json()["bound"] is True
    assert other_host.json()["code"] == 2008
    assert same_host.json()["session_id"] == session_id
    session_reset(session=Session.objects.get(public_id=session_id), actor=ACTOR)
    assert capture(call, key, feature_id=20, user="u", host="srv-2").status_code == 200


def test_a_bound_seat_idle_past_its_limit_is_free() -> None:
    product = make_product(2, (20, LicenseType.HOST, 1, False, {"idle_limit_days": 30}))
    key = license_key_generate(client=make_client(), actor=ACTOR)
    key_line_add(key=key, product=product, actor=ACTOR)
    now = timezone.now()
    session_capture(key_number=key.number, feature_id=20, unit=Unit(host="srv-1"), at=now)

    with pytest.raises(Refusal):
        session_capture(
            key_number=key.number,
            feature_id=20,
            unit=Unit(host="srv-2"),
            at=now + timedelta(days=29),
        )
    later = now + timedelta(days=31)
    granted = session_capture(
        key_number=key.number, feature_id=20, unit=Unit(host="srv-2"), at=later
    )

    assert granted.session.unit == "srv-2"
    assert sessions_sweep(at=later)["timeout"] == 1


def test_a_heartbeat_moves_a_bound_seats_idle_limit_on_even_after_the_catalog_changed_it() -> None:
    product = make_product(2, (20, LicenseType.HOST, 1, False, {"idle_limit_days": 30}))
    key = license_key_generate(client=make_client(), actor=ACTOR)
    key_line_add(key=key, product=product, actor=ACTOR)
    now = timezone.now()
    captured = session_capture(key_number=key.number, feature_id=20, unit=Unit(host="s"), at=now)

    later = now + timedelta(days=2)
    renewed = session_heartbeat(session_id=captured.session.public_id, at=later)
    stored = Session.objects.get(pk=captured.session.pk)
    assert renewed.session.bound_until == stored.bound_until == later + timedelta(days=30)
    assert stored.holds_until == stored.bound_until

    for feature_line in product.lines.all():
        feature_line.idle_limit_days = 7
        feature_line.save()
    latest = later + timedelta(days=1)
    session_heartbeat(session_id=captured.session.public_id, at=latest)
    stored.refresh_from_db()
    assert stored.bound_until == stored.holds_until == latest + timedelta(days=7)
    assert stored.lease_expires_at > latest


def test_a_feature_pooled_in_two_types_admits_a_unit_in_either() -> None:
    product = make_product(3, (10, LicenseType.USER, 1, False), (10, LicenseType.HOST, 1, False))
    key = license_key_generate(client=make_client(), actor=ACTOR)
    key_line_add(key=key, product=product, actor=ACTOR)

    first = session_capture(key_number=key.number, feature_id=10, unit=Unit("a", "h1"))
    second = session_capture(key_number=key.number, feature_id=10, unit=Unit("b", "h2"))

    assert (first.session.license_type, second.session.license_type) == ("USER", "HOST")
    with pytest.raises(Refusal) as third:
        session_capture(key_number=key.number, feature_id=10, unit=Unit("c", "h3"))
    assert third.value.code == 2008


def test_a_unit_is_not_given_the_seat_of_another_type_with_the_same_name() -> None:
    product = make_product(
        4, (10, LicenseType.HOST, 1, False), (10, LicenseType.DATABASE, 2, False)
    )
    key = license_key_generate(client=make_client(), actor=ACTOR)
    key_line_add(key=key, product=product, actor=ACTOR)

    def capture_as(host: str, database: str) -> Session:
        unit = Unit(host=host, database=database)
        return session_capture(key_number=key.number, feature_id=10, unit=unit).session

    host_seat = capture_as("z", "q")
    database_srv = capture_as("a", "srv")  # the host seat is taken: a database seat «srv»
    mine = capture_as("srv", "y")  # host «srv» is not database «srv»

    assert (host_seat.license_type, database_srv.license_type) == ("HOST", "DATABASE")
    assert (mine.license_type, mine.unit) == ("DATABASE", "y")
    assert mine.pk != database_srv.pk


def test_the_sweep_ends_timed_out_blocked_and_unlicensed_sessions(key) -> None:
    other = license_key_generate(client=make_client(), actor=ACTOR)
    key_line_add(key=other, product=key.lines.get().product, actor=ACTOR)
    now = timezone.now()
    session_capture(key_number=key.number, feature_id=10, unit=Unit("a", "h"), at=now)
    session_capture(key_number=other.number, feature_id=20, unit=Unit(host="h"), at=now)
    key_line_end(line=other.lines.get(), actor=ACTOR)

    swept = sessions_sweep(at=now + timedelta(seconds=700))

    assert swept == {"timeout": 1, "key_blocked": 0, "license_ended": 1}
    assert set(Session.objects.values_list("end_reason", flat=True)) == {
        EndReason.TIMED_OUT,
        EndReason.LICENSE_ENDED,
    }
    assert Session.objects.get(key=key).ended_at == now + timedelta(seconds=600)


def test_a_usage_counted_trial_ends_after_its_days_of_use() -> None:
    from licentia.catalog.models import TrialCounting

    trial = make_product(
        4, (10, LicenseType.USER, 1, False), trial_days=2, trial_counting=TrialCounting.USAGE
    )
    key = license_key_generate(client=make_client(), actor=ACTOR)
    line = key_line_add(key=key, product=trial, actor=ACTOR, is_trial=True)
    # Noon of a local day to come: an hour later is the same day of use at any time of running.
    day = (timezone.localtime() + timedelta(days=1)).replace(
        hour=12, minute=0, second=0, microsecond=0
    )

    for moment in (day, day + timedelta(hours=1), day + timedelta(days=3)):
        session_capture(key_number=key.number, feature_id=10, unit=Unit("a", "h"), at=moment)
        session_release(session_id=Session.objects.latest("id").public_id, at=moment)
    session_capture(
        key_number=key.number,
        feature_id=10,
        unit=Unit("a", "h"),
        at=day + timedelta(days=3, hours=1),
    )

    line.refresh_from_db()
    assert line.used_days == 2
    with pytest.raises(Refusal) as next_day:
        session_capture(
            key_number=key.number, feature_id=10, unit=Unit("a", "h"), at=day + timedelta(days=4)
        )
    assert next_day.value.code == 2011


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="prepared statements are PostgreSQL's"
)
def test_the_hot_path_is_prepared_once_and_not_planned_on_every_call(call, key) -> None:
    session_ids = [capture(call, key, user="u", host="h").json()["session_id"] for _ in range(6)]
    for _ in range(6):
        call("heartbeat", {"session_id": session_ids[0]})

    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        prepared = [row[0] for row in cursor.fetchall()]

    assert len(set(session_ids)) == 1
    assert any("FOR UPDATE OF k" in statement for statement in prepared)
    assert any("WITH s AS (UPDATE licensing_session" in statement for statement in prepared)


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="one round trip is PostgreSQL's: SQLite is local"
)
def test_a_heartbeat_is_one_statement_and_no_health_check_of_its_own(
    call, key, monkeypatch
) -> None:
    session_id = capture(call, key, user="u", host="h").json()["session_id"]
    checks = []
    is_usable = connection.is_usable
    monkeypatch.setattr(connection, "is_usable", lambda: checks.append(1) or is_usable())

    with CaptureQueriesContext(connection) as queries:
        answer = call("heartbeat", {"session_id": session_id})

    assert answer.status_code == 200
    assert answer.json()["session_id"] == session_id
    assert [query["sql"].split(" ")[:4] for query in queries.captured_queries] == [
        ["WITH", "s", "AS", "(UPDATE"]
    ]
    assert checks == []


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="a server connection to break is PostgreSQL's"
)
@pytest.mark.django_db(transaction=True)
def test_a_heartbeat_on_a_connection_the_server_closed_reconnects_and_answers(call, key) -> None:
    session_id = capture(call, key, user="u", host="h").json()["session_id"]
    own_backend = connection.connection.info.backend_pid
    with psycopg.connect(**connection.get_connection_params()) as other:
        other.execute("SELECT pg_terminate_backend(%s)", [own_backend])

    answer = call("heartbeat", {"session_id": session_id})

    assert answer.status_code == 200
    assert answer.json()["session_id"] == session_id
    assert connection.connection.info.backend_pid != own_backend


@pytest.mark.skipif(connection.vendor != "postgresql", reason="a PostgreSQL storage parameter")
def test_the_sessions_table_keeps_room_in_each_page_for_a_heartbeats_new_version() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT reloptions FROM pg_class WHERE relname = 'licensing_session'")
        assert cursor.fetchone()[0] == ["fillfactor=70"]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="a PostgreSQL commit setting")
@pytest.mark.django_db(transaction=True)
def test_a_heartbeat_commits_without_waiting_for_the_disk_and_only_its_own_transaction(
    call, key
) -> None:
    session_id = capture(call, key, user="u", host="h").json()["session_id"]

    with CaptureQueriesContext(connection) as queries:
        answer = call("heartbeat", {"session_id": session_id})
    with connection.cursor() as cursor:
        cursor.execute("SHOW synchronous_commit")
        after = cursor.fetchone()[0]

    assert answer.status_code == 200
    assert "set_config('synchronous_commit', 'off', true)" in queries.captured_queries[0]["sql"]
    assert after == "on"
    assert Session.objects.get().last_heartbeat_at > Session.objects.get().started_at
