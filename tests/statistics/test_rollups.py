"""The rollups hold what a direct count over the raw records gives, whatever the history."""

from collections import defaultdict
from datetime import date, datetime, timedelta

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from licentia.catalog.models import LicenseType
from licentia.clients.merge import clients_merge
from licentia.core.audit import Actor
from licentia.keys.models import KeyLine, LicenseKey
from licentia.licensing.models import Problem, Session
from licentia.licensing.signals import sessions_purge_horizon
from licentia.statistics import selectors
from licentia.statistics.models import (
    FeatureUsageDay,
    FeatureUsersMonth,
    KeyUsageDay,
    RefusalDay,
    TrialDay,
)
from licentia.statistics.services import day_start, days_rollup, local_day, statistics_rollup
from tests.factories import make_client, make_product

# Three days before and after a month's end, so that days and months both change.
FIRST_DAY = date(2026, 3, 29)
DAYS = 5
MINUTES = DAYS * 24 * 60

sessions_strategy = st.lists(
    st.tuples(
        st.integers(0, 2),  # key
        st.sampled_from([1, 2]),  # feature
        st.sampled_from(["ivan@pc1", "olga@pc2", "petr@pc3"]),  # unit
        st.integers(0, MINUTES - 1),  # start, minutes after the first day began
        st.one_of(st.none(), st.integers(0, 3000)),  # minutes held; None: still open
        st.booleans(),  # an open one holds the seat without limit (bound) or by its lease
    ),
    max_size=25,
)
trials_strategy = st.lists(
    st.tuples(st.integers(0, 2), st.sampled_from([10, 20]), st.integers(0, MINUTES - 1)),
    max_size=6,
)
problems_strategy = st.lists(
    st.tuples(st.sampled_from([1, 2]), st.sampled_from([2008, 2011]), st.integers(0, DAYS - 1)),
    max_size=6,
)


@pytest.fixture
def keys(db: None) -> list[LicenseKey]:
    make_product(10, (1, LicenseType.USER, 5, False))
    make_product(20, (2, LicenseType.HOST, 5, False))
    return [
        LicenseKey.objects.create(
            number=f"TEST-{index}", client=make_client(company=f"Фирма {index}")
        )
        for index in range(3)
    ]


def _start() -> datetime:
    return day_start(FIRST_DAY)


def _write_sessions(keys: list[LicenseKey], history: list[tuple]) -> list[Session]:
    made = []
    for key_index, feature_id, unit, start, held, bound in history:
        started = _start() + timedelta(minutes=start)
        ended = started + timedelta(minutes=held) if held is not None else None
        holds = None if ended is not None or bound else started + timedelta(minutes=15)
        made.append(
            Session.objects.create(
                key=keys[key_index],
                feature_id=feature_id,
                license_type=LicenseType.USER,
                binding="floating",
                unit=unit,
                started_at=started,
                last_heartbeat_at=started,
                lease_expires_at=started + timedelta(minutes=15),
                holds_until=holds,
                ended_at=ended,
                end_reason="released" if ended else "",
            )
        )
    return made


def _until(session: Session) -> datetime | None:
    return session.ended_at if session.ended_at is not None else session.holds_until


def _direct_peak(sessions: list[Session], day: date, feature_id: int | None) -> int:
    start, end = day_start(day), day_start(day + timedelta(days=1))
    chosen = [s for s in sessions if feature_id is None or s.feature_id == feature_id]
    instants = [start] + [s.started_at for s in chosen if start <= s.started_at < end]
    return max(
        sum(
            1
            for s in chosen
            if s.started_at <= moment and (_until(s) is None or moment < _until(s))
        )
        for moment in instants
    )


def _expected_usage(sessions: list[Session]) -> dict[tuple[date, int], tuple[int, int, int]]:
    expected = {}
    for offset in range(DAYS):
        day = FIRST_DAY + timedelta(days=offset)
        for feature_id in (1, 2, 0):
            started = [
                s
                for s in sessions
                if local_day(s.started_at) == day and feature_id in (0, s.feature_id)
            ]
            units = {(s.key_id, s.unit) for s in started}
            peak = _direct_peak(sessions, day, feature_id or None)
            if started or peak:
                expected[(day, feature_id)] = (len(started), len(units), peak)
    return expected


def _rolled_usage() -> dict[tuple[date, int], tuple[int, int, int]]:
    return {
        (row.day, row.feature_id): (row.sessions, row.units, row.peak)
        for row in FeatureUsageDay.objects.all()
        if row.day < FIRST_DAY + timedelta(days=DAYS)
    }


def _everything() -> list[tuple]:
    return [
        sorted(
            FeatureUsageDay.objects.values_list("day", "feature_id", "sessions", "units", "peak")
        ),
        sorted(KeyUsageDay.objects.values_list("day", "key_id", "feature_id", "sessions", "units")),
        sorted(FeatureUsersMonth.objects.values_list("month", "feature_id", "units")),
        sorted(TrialDay.objects.values_list("day", "product_id", "trials")),
        sorted(RefusalDay.objects.values_list("day", "feature_id", "code", "refusals")),
    ]


@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(history=sessions_strategy, trials=trials_strategy, problems=problems_strategy)
def test_the_rolled_up_figures_equal_direct_counts_of_the_raw_records(
    keys: list[LicenseKey], history: list[tuple], trials: list[tuple], problems: list[tuple]
) -> None:
    with transaction.atomic():
        sessions = _write_sessions(keys, history)
        for key_index, product_id, minute in trials:
            line = KeyLine.objects.create(
                key=keys[key_index], product_id=product_id, is_trial=True, starts_at=_start()
            )
            KeyLine.objects.filter(pk=line.pk).update(
                created_at=_start() + timedelta(minutes=minute)
            )
        for index, (feature_id, code, offset) in enumerate(problems):
            moment = _start() + timedelta(days=offset, hours=12)
            Problem.objects.create(
                key=keys[0],
                key_number="TEST-0",
                feature_id=feature_id,
                unit=f"u{index}",
                code=code,
                day=FIRST_DAY + timedelta(days=offset),
                first_at=moment,
                last_at=moment,
                count=index + 1,
            )
        # Rolled up in two runs, as the worker does as days pass.
        statistics_rollup(now=_start() + timedelta(days=2, hours=12))
        statistics_rollup(now=_start() + timedelta(days=DAYS, hours=12))

        assert _rolled_usage() == _expected_usage(sessions)
        months: dict[tuple[date, int], set] = defaultdict(set)
        for s in sessions:
            month = local_day(s.started_at).replace(day=1)
            months[(month, s.feature_id)].add((s.key_id, s.unit))
            months[(month, 0)].add((s.key_id, s.unit))
        assert {
            (row.month, row.feature_id): row.units for row in FeatureUsersMonth.objects.all()
        } == {month: len(units) for month, units in months.items()}
        direct_trials: dict[tuple[date, int], int] = defaultdict(int)
        for line in KeyLine.objects.filter(is_trial=True):
            direct_trials[(local_day(line.created_at), line.product_id)] += 1
        assert {(r.day, r.product_id): r.trials for r in TrialDay.objects.all()} == direct_trials
        direct_refusals: dict[tuple[date, int, int], int] = defaultdict(int)
        for problem in Problem.objects.all():
            direct_refusals[(problem.day, problem.feature_id, problem.code)] += problem.count
        assert {
            (r.day, r.feature_id, r.code): r.refusals for r in RefusalDay.objects.all()
        } == direct_refusals

        before = _everything()
        days_rollup(first=FIRST_DAY, last=FIRST_DAY + timedelta(days=DAYS - 1))
        assert _everything() == before
        transaction.set_rollback(True)


def test_a_day_is_rolled_up_only_once_it_is_over(keys: list[LicenseKey]) -> None:
    _write_sessions(
        keys, [(0, 1, "ivan@pc1", 60, 30, False), (0, 1, "olga@pc2", 24 * 60 + 60, 30, False)]
    )

    statistics_rollup(now=_start() + timedelta(hours=23))
    assert not FeatureUsageDay.objects.exists()
    statistics_rollup(now=_start() + timedelta(days=1, hours=12))

    assert list(FeatureUsageDay.objects.values_list("day", "feature_id", "sessions")) in (
        [(FIRST_DAY, 0, 1), (FIRST_DAY, 1, 1)],
        [(FIRST_DAY, 1, 1), (FIRST_DAY, 0, 1)],
    )


def test_the_purge_may_take_sessions_that_ended_before_the_first_day_not_rolled_up(
    keys: list[LicenseKey],
) -> None:
    _write_sessions(keys, [(0, 1, "ivan@pc1", 60, 30, False)])
    answers = [answer for _receiver, answer in sessions_purge_horizon.send(sender=None)]
    assert answers
    assert all(answer <= _start() for answer in answers)

    statistics_rollup(now=_start() + timedelta(days=3, hours=12))
    answers = [answer for _receiver, answer in sessions_purge_horizon.send(sender=None)]

    assert answers == [day_start(FIRST_DAY + timedelta(days=3))]


def test_a_merge_of_clients_moves_their_figures_to_the_main_client(keys: list[LicenseKey]) -> None:
    _write_sessions(
        keys,
        [
            (0, 1, "ivan@pc1", 60, 30, False),
            (1, 1, "olga@pc2", 90, 30, False),
            (1, 2, "petr@pc3", 90, 30, False),
        ],
    )
    statistics_rollup(now=_start() + timedelta(days=1, hours=12))
    main, other = keys[0].client, keys[1].client
    assert selectors.client_sessions(first=FIRST_DAY, last=FIRST_DAY) == {
        main.pk: 1,
        other.pk: 2,
    }

    clients_merge(main=main, others=[other], fill=(), actor=Actor.system("tests"))

    assert selectors.client_sessions(first=FIRST_DAY, last=FIRST_DAY) == {main.pk: 3}


def test_the_worker_rolls_the_statistics_up_every_ten_minutes() -> None:
    from licentia.scheduler import periodic_tasks
    from licentia.statistics.tasks import rollup_statistics

    scheduled = {periodic.task: periodic.interval for periodic in periodic_tasks()}

    assert scheduled[rollup_statistics] == 600.0
