"""The licensing protocol: trial, capture, heartbeat, release, tokens, resets and sweeps.

Every capture counts seats and inserts its session under a lock on the key row, so capacity
is never exceeded whatever the concurrency (PostgreSQL: SELECT … FOR UPDATE; SQLite: the
immediate transaction already holds the database's write lock)."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from licentia.catalog.models import Binding, LicenseType, Product, TrialCounting
from licentia.clients.models import Client, ClientSource
from licentia.clients.services import client_clean, client_create
from licentia.core import rawsql
from licentia.core.audit import Actor, audit_record, snapshot
from licentia.core.models import ActorKind, VendorSettings
from licentia.core.normalize import company_key
from licentia.core.selectors import vendor_settings_get
from licentia.keys.models import KeyLine, LicenseKey, LineState
from licentia.keys.selectors import KeyLicense, Pool, key_license, line_is_live
from licentia.keys.services import key_line_add, license_key_generate
from licentia.licensing import queries
from licentia.licensing.certificates import fingerprint_sha256
from licentia.licensing.models import (
    EndReason,
    MachineRegistration,
    Problem,
    RateWindow,
    Session,
    TokenConsumption,
    TrialUseDay,
)
from licentia.licensing.refusals import PROBLEM_CODES, Code, Refusal, invalid
from licentia.licensing.selectors import (
    SEAT_TYPES,
    key_number_parse,
    session_holds_seat,
    tokens_consumed,
)
from licentia.licensing.signals import capture_refused, trial_registered


@dataclass(frozen=True)
class Unit:
    """Who asks for a seat: the application's user, host, infobase and process."""

    user: str = ""
    host: str = ""
    database: str = ""
    process_id: str = ""

    def name_for(self, license_type: str) -> str | None:
        """The unit that takes one seat of the type, or None when a part of it is missing."""
        host = self.host.strip().lower()
        parts = {
            LicenseType.USER: (self.user.strip(), host),
            LicenseType.HOST: (host,),
            LicenseType.DATABASE: (self.database.strip(),),
            LicenseType.PROCESS: (self.process_id.strip(), host),
        }[LicenseType(license_type)]
        return "@".join(parts) if all(parts) else None

    def missing_for(self, license_type: str) -> list[str]:
        needs = {
            LicenseType.USER: ["user", "host"],
            LicenseType.HOST: ["host"],
            LicenseType.DATABASE: ["database"],
            LicenseType.PROCESS: ["process_id", "host"],
        }[LicenseType(license_type)]
        return [name for name in needs if not getattr(self, name).strip()]

    def any_name(self) -> str:
        return "@".join(part for part in (self.user, self.host, self.database) if part)


def application_actor(unit: Unit, ip: str | None) -> Actor:
    return Actor(kind=ActorKind.APPLICATION, label=unit.any_name() or "application", ip=ip)


def _bump(
    model: type[models.Model], *, match: dict[str, Any], create: dict[str, Any], **update: Any
) -> None:
    """Adds to a counter row, creating it when it is the first: safe when two requests race
    to create the same row."""
    if model._default_manager.filter(**match).update(**update):
        return
    try:
        with transaction.atomic():
            model._default_manager.create(**match, **create)
    except IntegrityError:
        model._default_manager.filter(**match).update(**update)


# Problems ----------------------------------------------------------------------------------


def problem_record(
    *,
    key_number: str,
    key: LicenseKey | None,
    feature_id: int,
    unit: Unit,
    code: int,
    moment: datetime,
) -> None:
    with transaction.atomic():
        _bump(
            Problem,
            match={
                "key_number": key_number[:64],
                "feature_id": feature_id,
                "unit": unit.any_name()[:600],
                "code": code,
                "day": timezone.localdate(moment),
            },
            create={
                "key": key,
                "user": unit.user[:200],
                "host": unit.host[:200],
                "database": unit.database[:200],
                "first_at": moment,
                "last_at": moment,
            },
            count=F("count") + 1,
            last_at=moment,
        )
        capture_refused.send(
            sender=Problem,
            key=key,
            key_number=key_number,
            feature_id=feature_id,
            code=code,
            unit=unit,
            moment=moment,
        )


# Capture, heartbeat, release ---------------------------------------------------------------


@dataclass(frozen=True)
class Granted:
    session: Session
    license: KeyLicense
    vendor: VendorSettings


def _locked_key(number: str) -> tuple[LicenseKey, list[KeyLine]]:
    # LICENTIA_CAPTURE_LOCK exists for the test that shows the race without the lock.
    found = queries.key_with_lines(
        number, for_update=getattr(settings, "LICENTIA_CAPTURE_LOCK", True)
    )
    if found is None:
        raise Refusal(Code.UNKNOWN_KEY)
    return found


def _pools_for(license_: KeyLicense, feature_id: int) -> list[Pool]:
    if license_.key.blocked:
        raise Refusal(Code.KEY_BLOCKED)
    if feature_id not in license_.features_ever_held():
        raise Refusal(Code.FEATURE_NOT_IN_KEY)
    pools = license_.pools.get(feature_id, {})
    seat_pools = [pools[kind] for kind in SEAT_TYPES if kind in pools]
    if not seat_pools:
        if LicenseType.TOKEN in pools:
            raise Refusal(Code.FEATURE_NOT_IN_KEY)
        raise Refusal(Code.LICENSE_EXPIRED)
    return seat_pools


def _seat_ends(pool: Pool, moment: datetime, lease: int) -> dict[str, Any]:
    ends: dict[str, Any] = {"lease_expires_at": moment + timedelta(seconds=lease)}
    if pool.binding == Binding.BOUND:
        idle = pool.idle_limit_days
        ends["bound_until"] = moment + timedelta(days=idle) if idle is not None else None
    return ends


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
    moment = at or timezone.now()
    key: LicenseKey | None = None
    number = key_number
    try:
        number = key_number_parse(key_number)
        with transaction.atomic():
            key, lines = _locked_key(number)
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
        if refusal.code in PROBLEM_CODES:
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
    pools = _pools_for(license_, feature_id)
    vendor = vendor_settings_get()
    units = {pool.license_type: unit.name_for(pool.license_type) for pool in pools}
    if not any(units.values()):
        missing = {name for pool in pools for name in unit.missing_for(pool.license_type)}
        raise invalid({name: [str(_required)] for name in sorted(missing)})

    taken, mine = queries.seats_held(
        key_id=key.pk,
        feature_id=feature_id,
        moment=moment,
        units={license_type: name for license_type, name in units.items() if name},
    )
    if mine:
        session = Session.objects.get(pk=mine)
        pool = next(p for p in pools if p.license_type == session.license_type)
        for name, value in {**details, **_seat_ends(pool, moment, vendor.lease_seconds)}.items():
            setattr(session, name, value)
        session.last_heartbeat_at = moment
        session.released_at = None
        session.save()
        _record_trial_use(license_, feature_id, moment)
        return Granted(session=session, license=license_, vendor=vendor)

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
            **_seat_ends(pool, moment, vendor.lease_seconds),
        )
        rawsql.insert(session)
        _record_trial_use(license_, feature_id, moment)
        return Granted(session=session, license=license_, vendor=vendor)
    raise Refusal(Code.NO_FREE_SEAT)


_required = gettext_lazy("This field is required.")


def session_heartbeat(*, session_id: Any, at: datetime | None = None) -> Granted:
    """Extends the lease of a session that still holds its seat; ends it when the key was
    blocked or its license ended meanwhile. Every write is conditional on the seat being
    held still: a reset or a sweep between the read and the write wins."""
    moment = at or timezone.now()
    found = queries.session_with_key(session_id)
    if found is None:
        raise Refusal(Code.UNKNOWN_SESSION)
    session, lines = found
    if session.released_at is not None or not session_holds_seat(session, moment):
        raise Refusal(Code.UNKNOWN_SESSION)
    license_ = key_license(session.key, moment, lines=lines)
    pool = license_.pool(session.feature_id, session.license_type)
    if session.key.blocked or pool is None:
        reason = EndReason.KEY_BLOCKED if session.key.blocked else EndReason.LICENSE_ENDED
        queries.session_end_if_held(session_pk=session.pk, moment=moment, reason=reason)
        raise Refusal(Code.KEY_BLOCKED if session.key.blocked else Code.LICENSE_EXPIRED)
    vendor = vendor_settings_get()
    ends = _seat_ends(pool, moment, vendor.lease_seconds)
    extended = queries.session_extend(
        session_pk=session.pk,
        moment=moment,
        lease_expires_at=ends["lease_expires_at"],
        bound_until=ends.get("bound_until"),
    )
    if not extended:
        raise Refusal(Code.UNKNOWN_SESSION)
    for name, value in ends.items():
        setattr(session, name, value)
    session.last_heartbeat_at = moment
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
    with transaction.atomic():
        current = Session.objects.select_for_update().get(pk=session.pk)
        if current.ended_at is not None:
            return current
        before = snapshot(current)
        current.ended_at = timezone.now()
        current.end_reason = reason
        current.save(update_fields=["ended_at", "end_reason"])
        audit_record(
            actor=actor,
            action="session.reset",
            instance=current,
            before=before,
            after=snapshot(current),
        )
    return current


def sessions_sweep(*, at: datetime | None = None) -> dict[str, int]:
    """Ends floating sessions whose lease ran out, bound ones idle past their limit, and the
    sessions of keys that were blocked or whose license for the feature ended."""
    moment = at or timezone.now()
    open_sessions = Session.objects.filter(ended_at__isnull=True)
    ended = {
        EndReason.TIMED_OUT: open_sessions.filter(
            binding=Binding.FLOATING, lease_expires_at__lte=moment
        ).update(ended_at=F("lease_expires_at"), end_reason=EndReason.TIMED_OUT)
        + open_sessions.filter(binding=Binding.BOUND, bound_until__lte=moment).update(
            ended_at=F("bound_until"), end_reason=EndReason.TIMED_OUT
        ),
        EndReason.KEY_BLOCKED: open_sessions.filter(key__blocked=True).update(
            ended_at=moment, end_reason=EndReason.KEY_BLOCKED
        ),
        EndReason.LICENSE_ENDED: 0,
    }
    key_ids = open_sessions.values_list("key_id", flat=True).distinct().order_by()
    for key in LicenseKey.objects.filter(pk__in=list(key_ids)):
        pools = key_license(key, moment).pools
        for session in open_sessions.filter(key=key).only("feature_id", "license_type"):
            if session.license_type not in pools.get(session.feature_id, {}):
                ended[EndReason.LICENSE_ENDED] += Session.objects.filter(
                    pk=session.pk, ended_at__isnull=True
                ).update(ended_at=moment, end_reason=EndReason.LICENSE_ENDED)
    RateWindow.objects.filter(window_start__lt=moment - timedelta(days=1)).delete()
    return {str(reason): count for reason, count in ended.items()}


# Tokens ------------------------------------------------------------------------------------


def tokens_consume(
    *,
    key_number: str,
    feature_id: int,
    amount: int,
    comment: str = "",
    idempotency_key: str = "",
    at: datetime | None = None,
) -> int:
    """Takes tokens from the key's balance atomically; never below zero (2063). A repeated
    idempotency key answers as the first call did and consumes nothing more."""
    moment = at or timezone.now()
    number = key_number_parse(key_number)
    with transaction.atomic():
        key, lines = _locked_key(number)
        if idempotency_key:
            earlier = TokenConsumption.objects.filter(
                key=key, idempotency_key=idempotency_key
            ).first()
            if earlier is not None:
                if (earlier.feature_id, earlier.amount) != (feature_id, amount):
                    raise invalid(
                        {"idempotency_key": [_("Already used for a different consumption.")]}
                    )
                return earlier.balance_after
        license_ = key_license(key, moment, lines=lines)
        if key.blocked:
            raise Refusal(Code.KEY_BLOCKED)
        if feature_id not in license_.features_ever_held():
            raise Refusal(Code.FEATURE_NOT_IN_KEY)
        pool = license_.pools.get(feature_id, {}).get(LicenseType.TOKEN)
        if pool is None:
            raise Refusal(Code.LICENSE_EXPIRED)
        balance = pool.capacity - tokens_consumed(key).get(feature_id, 0)
        if amount > balance:
            raise Refusal(Code.NOT_ENOUGH_TOKENS, balance=max(balance, 0))
        TokenConsumption.objects.create(
            key=key,
            feature_id=feature_id,
            amount=amount,
            comment=comment[:500],
            idempotency_key=idempotency_key,
            balance_after=balance - amount,
        )
    return balance - amount


# Trial -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TrialOutcome:
    key: LicenseKey
    line: KeyLine | None  # None when the key had its trial of the product already


def _trial_product(product_id: int) -> Product:
    product = Product.objects.filter(pk=product_id, retired=False).first()
    if product is None or not (product.trial_days or product.permanent_instead_of_trial):
        raise invalid({"product_id": [_("This product gives no trial.")]})
    return product


def trial_register(
    *,
    product_id: int,
    questionnaire: dict[str, str],
    unit: Unit,
    fingerprint: dict[str, str],
    app_version: str = "",
    language: str = "ru",
    ip: str | None = None,
    at: datetime | None = None,
) -> TrialOutcome:
    """Finds or creates the client and its key and adds the product's trial (or a perpetual
    line when the product says so). One trial per product per key; an e-mail belongs to one
    company (2022); a machine to one e-mail (2051)."""
    moment = at or timezone.now()
    product = _trial_product(product_id)
    typed: dict[str, Any] = {
        "company": questionnaire.get("company", ""),
        "contact": questionnaire.get("contact", ""),
        "email": questionnaire.get("email", ""),
        "phone": questionnaire.get("phone", ""),
        "crm_id1": questionnaire.get("inn", ""),
        "language": language,
    }
    try:
        fields = client_clean(typed, accept_invalid_inn=False)
    except ValidationError as error:
        raise invalid(
            {
                ("inn" if name == "crm_id1" else name): messages
                for name, messages in error.message_dict.items()
            }
        ) from error
    if not fields["email"]:
        raise invalid({"email": [str(_required)]})
    if not fingerprint:
        raise invalid({"fingerprint": [str(_required)]})
    machine = fingerprint_sha256(fingerprint)
    actor = application_actor(unit, ip)
    with transaction.atomic():
        # Trials are rare and rate-limited: one at a time keeps find-or-create exact.
        VendorSettings.objects.select_for_update().get(pk=VendorSettings.SINGLETON_PK)
        registration = MachineRegistration.objects.filter(fingerprint_hash=machine).first()
        if registration is not None and registration.email != fields["email"]:
            raise Refusal(Code.MACHINE_OF_ANOTHER_EMAIL)
        client = _trial_client(typed, email=fields["email"], actor=actor)
        key = _trial_key(client, registration, actor)
        if key.blocked:
            raise Refusal(Code.KEY_BLOCKED)
        line = _trial_line(key, product, actor, moment)
        if registration is None:
            MachineRegistration.objects.create(
                fingerprint_hash=machine, email=fields["email"], key=key
            )
        audit_record(
            actor=actor,
            action="trial.register",
            instance=key,
            after={
                "product": product.pk,
                "line": line.pk if line else None,
                "app_version": app_version,
                "fingerprint_sha256": machine,
            },
        )
        if line is not None:
            transaction.on_commit(lambda: trial_registered.send(sender=KeyLine, line=line, key=key))
    return TrialOutcome(key=key, line=line)


def _trial_client(typed: dict[str, Any], *, email: str, actor: Actor) -> Client:
    same_email = list(Client.objects.filter(email=email).order_by("id"))
    wanted = company_key(typed["company"])
    for client in same_email:
        if client.company_key == wanted:
            return client
    if same_email:
        raise Refusal(Code.EMAIL_OF_ANOTHER_COMPANY)
    return client_create(actor=actor, source=ClientSource.TRIAL, **typed)


def _trial_key(
    client: Client, registration: MachineRegistration | None, actor: Actor
) -> LicenseKey:
    if registration is not None and registration.key.client_id == client.pk:
        return registration.key
    key = client.license_keys.order_by("id").first()
    return key or license_key_generate(client=client, actor=actor)


def _trial_line(
    key: LicenseKey, product: Product, actor: Actor, moment: datetime
) -> KeyLine | None:
    lines = key.lines.filter(product=product).select_related("product")
    if any(line.is_trial for line in lines) or any(line_is_live(line, at=moment) for line in lines):
        return None
    if product.permanent_instead_of_trial:
        line = key_line_add(key=key, product=product, actor=actor, starts_at=moment)
        _end_trials_of(key, product, moment)
        return line
    expires = (
        moment + timedelta(days=product.trial_days)
        if product.trial_counting == TrialCounting.CALENDAR
        else None
    )
    return key_line_add(
        key=key, product=product, actor=actor, is_trial=True, starts_at=moment, expires_at=expires
    )


def _end_trials_of(key: LicenseKey, product: Product, moment: datetime) -> None:
    ended = [product.pk, *product.ends_trials.values_list("pk", flat=True)]
    key.lines.filter(product__in=ended, is_trial=True, state=LineState.ACTIVE).update(
        state=LineState.ENDED_BY_PURCHASE, ended_at=moment
    )


# Rate limits -------------------------------------------------------------------------------


def rate_limit_hit(*, scope: str, caller: str, limit: int, window_seconds: int) -> None:
    """Counts a request; refuses (429, Retry-After) past the limit in the current window."""
    now = timezone.now()
    start_ts = int(now.timestamp()) // window_seconds * window_seconds
    window_start = datetime.fromtimestamp(start_ts, tz=UTC)
    match = {"scope": scope, "caller": caller[:64], "window_start": window_start}
    _bump(RateWindow, match=match, create={"hits": 1}, hits=F("hits") + 1)
    hits = RateWindow.objects.filter(**match).values_list("hits", flat=True).first() or 0
    if hits > limit:
        retry_after = start_ts + window_seconds - int(now.timestamp())
        raise Refusal(Code.RATE_LIMITED, retry_after=max(retry_after, 1))
