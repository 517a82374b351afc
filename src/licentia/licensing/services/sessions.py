"""Capture, heartbeat, release and reset of seats (Сессии).

Every capture counts seats and inserts its session under a lock on the key row, so capacity
is never exceeded whatever the concurrency (PostgreSQL: SELECT … FOR UPDATE; SQLite: the
immediate transaction already holds the database's write lock). Its times are stamped under
that lock, so sessions of one pool never overlap in the history by more than its seats."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from licentia.catalog.models import Binding, TrialCounting
from licentia.core import rawsql
from licentia.core.audit import Actor, audited_change
from licentia.core.models import VendorSettings
from licentia.core.selectors import vendor_settings_get
from licentia.keys.models import KeyLine, LicenseKey
from licentia.keys.selectors import KeyLicense, Pool, key_license
from licentia.licensing import queries, signals
from licentia.licensing.models import EndReason, Session, TrialUseDay
from licentia.licensing.refusals import Code, Refusal, missing
from licentia.licensing.selectors import key_number_parse
from licentia.licensing.services.access import SEAT_TYPES, granted_pools, key_locked
from licentia.licensing.services.problems import problem_record
from licentia.licensing.units import Unit


@dataclass(frozen=True)
class Granted:
    session: Session
    license: KeyLicense
    vendor: VendorSettings


def seat_ends(pool: Pool, moment: datetime, lease: int) -> dict[str, Any]:
    """The lease end, the idle limit of a bound seat, and so when the seat stops being held."""
    lease_end = moment + timedelta(seconds=lease)
    if pool.binding != Binding.BOUND:
        return {"lease_expires_at": lease_end, "holds_until": lease_end}
    idle = pool.idle_limit_days
    bound_until = moment + timedelta(days=idle) if idle is not None else None
    return {"lease_expires_at": lease_end, "bound_until": bound_until, "holds_until": bound_until}


def _record_trial_use(license_: KeyLicense, feature_id: int, moment: datetime) -> None:
    day = timezone.localdate(moment)
    for line in license_.live_lines:
        product = line.product
        if not (line.is_trial and product.trial_counting == TrialCounting.USAGE):
            continue
        if not any(fl.feature_id == feature_id for fl in product.lines.all()):
            continue
        _use_day, created = TrialUseDay.objects.get_or_create(line=line, day=day)
        if created:
            KeyLine.objects.filter(pk=line.pk).update(
                used_days=F("used_days") + 1, last_used_on=day
            )


def session_capture(
    *,
    key_number: str,
    feature_id: int,
    unit: Unit,
    fingerprint: dict[str, str] | None = None,
    app_version: str = "",
    ip: str | None = None,
    at: datetime | None = None,
) -> Granted:
    """A seat of the feature for the unit: the one it holds already (lease renewed), or a new
    one in the first pool with room. Refusals are recorded as Problems."""
    key: LicenseKey | None = None
    number = key_number
    moment = at or timezone.now()
    try:
        number = key_number_parse(key_number)
        with transaction.atomic():
            key, lines = key_locked(number)
            moment = at or timezone.now()
            return _capture_locked(
                license_=key_license(key, moment, lines=lines),
                feature_id=feature_id,
                unit=unit,
                details={
                    "fingerprint": fingerprint or {},
                    "app_version": app_version[:64],
                    "ip": ip,
                },
                moment=moment,
            )
    except Refusal as refusal:
        if refusal.code.is_problem:
            problem_record(
                key_number=number,
                key=key,
                feature_id=feature_id,
                unit=unit,
                code=refusal.code,
                moment=moment,
            )
        raise


def _capture_locked(
    *,
    license_: KeyLicense,
    feature_id: int,
    unit: Unit,
    details: dict[str, Any],
    moment: datetime,
) -> Granted:
    key = license_.key
    pools = granted_pools(license_, feature_id, SEAT_TYPES)
    vendor = vendor_settings_get()
    units = {pool.license_type: unit.name_for(pool.license_type) for pool in pools}
    if not any(units.values()):
        names = {name for pool in pools for name in unit.missing_for(pool.license_type)}
        raise missing(names)

    taken, mine = queries.seats_held(
        key_id=key.pk,
        feature_id=feature_id,
        moment=moment,
        units={license_type: name for license_type, name in units.items() if name},
    )
    if mine is not None:
        held_type, session_pk = mine
        pool = next(p for p in pools if p.license_type == held_type)
        renewed = queries.session_renew(
            session_pk=session_pk,
            moment=moment,
            changes={
                **details,
                **seat_ends(pool, moment, vendor.lease_seconds),
                "last_heartbeat_at": moment,
                "released_at": None,
            },
        )
        if renewed is not None:
            _record_trial_use(license_, feature_id, moment)
            return Granted(session=renewed, license=license_, vendor=vendor)

    for pool in pools:
        unit_name = units[pool.license_type]
        if unit_name is None or taken.get(pool.license_type, 0) >= pool.capacity:
            continue
        # An older session of the unit that lost its seat stays for the sweep to end.
        session = Session(
            key=key,
            feature_id=feature_id,
            license_type=pool.license_type,
            binding=pool.binding,
            unit=unit_name,
            user=unit.user[:200],
            host=unit.host[:200],
            database=unit.database[:200],
            process_id=unit.process_id[:64],
            started_at=moment,
            last_heartbeat_at=moment,
            **details,
            **seat_ends(pool, moment, vendor.lease_seconds),
        )
        rawsql.insert(session)
        _record_trial_use(license_, feature_id, moment)
        return Granted(session=session, license=license_, vendor=vendor)
    raise Refusal(Code.NO_FREE_SEAT)


def session_heartbeat(*, session_id: Any, at: datetime | None = None) -> Granted:
    """Extends the lease of a session that still holds its seat; ends it when the key was
    blocked or its license ended meanwhile. The lease is renewed first, conditionally on the
    seat being held still (a reset or a sweep before it wins), in the statement that reads the
    key's lines: one round trip when the license still grants the seat, as it nearly always
    does."""
    moment = at or timezone.now()
    vendor = vendor_settings_get()
    found = queries.session_heartbeat(
        public_id=session_id,
        moment=moment,
        lease_expires_at=moment + timedelta(seconds=vendor.lease_seconds),
    )
    if found is None:
        raise Refusal(Code.UNKNOWN_SESSION)
    session, lines = found
    license_ = key_license(session.key, moment, lines=lines)
    pool = license_.pool(session.feature_id, session.license_type)
    if session.key.blocked or pool is None:
        reason = EndReason.KEY_BLOCKED if session.key.blocked else EndReason.LICENSE_ENDED
        queries.session_end_if_held(session_pk=session.pk, moment=moment, reason=reason)
        raise Refusal(Code.KEY_BLOCKED if session.key.blocked else Code.LICENSE_EXPIRED)
    ends = seat_ends(pool, moment, vendor.lease_seconds)
    if any(getattr(session, name) != value for name, value in ends.items()):
        # A bound seat whose idle limit changed in the catalog (or any bound seat on SQLite).
        extended = queries.session_extend(
            session_pk=session.pk,
            moment=moment,
            lease_expires_at=ends["lease_expires_at"],
            bound_until=ends.get("bound_until"),
            holds_until=ends["holds_until"],
        )
        if not extended:
            raise Refusal(Code.UNKNOWN_SESSION)
        for name, value in ends.items():
            setattr(session, name, value)
    return Granted(session=session, license=license_, vendor=vendor)


def session_release(*, session_id: Any, at: datetime | None = None) -> dict[str, Any]:
    """Ends a floating session; a bound seat stays bound to its unit until reset or idle.
    Releasing twice changes nothing. Returns the session's release and end times."""
    released = queries.session_release(session_id, at or timezone.now())
    if released is None:
        raise Refusal(Code.UNKNOWN_SESSION)
    return released


def session_reset(
    *, session: Session, actor: Actor, reason: str = EndReason.RESET_BY_VENDOR
) -> Session:
    """Ends a session or a binding at once (Сброс): the seat is free for the next unit."""
    with audited_change(Session, session.pk, actor=actor, action="session.reset") as current:
        if current.ended_at is None:
            current.ended_at = timezone.now()
            current.end_reason = reason
            current.save(update_fields=["ended_at", "end_reason"])
            signals.session_reset.send(sender=Session, session=current)
    return current
