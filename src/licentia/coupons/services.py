"""Coupons: the generator, activation through every door, deactivation, blocking, and the one
change of a key's lines shared with the key card: "make the key hold this list".

Lock order, everywhere: the coupon row, then the key row. An activation records, per line it
touched, the line before (None when it made the line) and after; a deactivation restores the
"before" of every line whose present state is still the recorded "after", or refuses."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from licentia.catalog.models import Product, TrialCounting
from licentia.clients.models import Distributor
from licentia.core import keycodes
from licentia.core.audit import Actor, audit_record, snapshot
from licentia.core.selectors import vendor_settings_get
from licentia.coupons.models import (
    Activation,
    Coupon,
    CouponBatch,
    CouponKind,
    CouponLine,
    Door,
    Term,
)
from licentia.coupons.selectors import coupon_code_parse, product_takes_multiplier
from licentia.coupons.signals import coupon_activated, coupon_deactivated
from licentia.keys.models import KeyLine, LicenseKey, LineState
from licentia.keys.selectors import key_lines, line_is_live
from licentia.licensing.refusals import Code, Refusal
from licentia.licensing.selectors import key_number_parse
from licentia.licensing.services.sweep import sessions_fit
from licentia.licensing.services.trials import trials_ended_by

MAX_BATCH = 10_000
GENERATION_ATTEMPTS = 5
# What a deactivation puts back; the counters of usage (used_days, last_used_on) are the
# application's, not the coupon's, and stay as they are.
LINE_FIELDS = (
    "product_id",
    "multiplier",
    "is_trial",
    "starts_at",
    "expires_at",
    "state",
    "ended_at",
    "trial_days_added",
)
_DATETIME_FIELDS = frozenset({"starts_at", "expires_at", "ended_at"})


def line_record(line: KeyLine) -> dict[str, Any]:
    """The line as an activation records it (times to the microsecond, so that a restored line
    is the line that was)."""
    record = {name: getattr(line, name) for name in LINE_FIELDS}
    for name in _DATETIME_FIELDS:
        if record[name] is not None:
            record[name] = record[name].isoformat()
    return record


def _restore(line: KeyLine, record: dict[str, Any]) -> None:
    for name in LINE_FIELDS:
        value = record[name]
        setattr(line, name, parse_datetime(value) if value and name in _DATETIME_FIELDS else value)
    line.save(update_fields=[name.removesuffix("_id") for name in LINE_FIELDS])


class _Changes:
    """The lines of one key changed in one transaction, each with its state before and after."""

    def __init__(self, key: LicenseKey, moment: datetime) -> None:
        self.key = key
        self.moment = moment
        self.rows: list[dict[str, Any]] = []

    def add(self, **fields: Any) -> KeyLine:
        fields.setdefault("starts_at", self.moment)
        expires = fields.get("expires_at")
        if expires is not None and expires <= fields["starts_at"]:
            raise ValidationError(
                {"expires_at": _("The expiry must come after the start.")}, code="expired"
            )
        line = KeyLine.objects.create(key=self.key, **fields)
        self.rows.append({"line": line.pk, "before": None, "after": line_record(line)})
        return line

    def change(self, line: KeyLine, **fields: Any) -> None:
        before = line_record(line)
        for name, value in fields.items():
            setattr(line, name, value)
        if line.expires_at is not None and line.expires_at <= line.starts_at:
            raise ValidationError(
                {"expires_at": _("The expiry must come after the start.")}, code="expired"
            )
        after = line_record(line)
        if after == before:
            return
        line.save(update_fields=list(fields))
        for row in self.rows:
            if row["line"] == line.pk:
                row["after"] = after
                return
        self.rows.append({"line": line.pk, "before": before, "after": after})


@dataclass(frozen=True)
class Held:
    """A line the key is to hold: an existing one (line_id) kept or changed, or a new one."""

    product: Product
    multiplier: int = 1
    expires_at: datetime | None = None
    is_trial: bool = False
    line_id: int | None = None


def _hold(changes: _Changes, wanted: Sequence[Held]) -> None:
    """The key's live lines become exactly the wanted ones; lines left out end as ended by an
    upgrade."""
    moment = changes.moment
    live = {line.pk: line for line in key_lines(changes.key) if line_is_live(line, at=moment)}
    if {held.line_id for held in wanted if held.line_id is not None} - live.keys():
        raise ValidationError(
            _("A line of the list is no longer live in the key: reload the key and try again."),
            code="line_gone",
        )
    # A row that names a line but another product replaces that line with a new one.
    kept = {
        held.line_id: held
        for held in wanted
        if held.line_id is not None and live[held.line_id].product_id == held.product.pk
    }
    for line in live.values():
        if line.pk not in kept:
            changes.change(line, state=LineState.ENDED_BY_UPGRADE, ended_at=moment)
    for held in wanted:
        _check_multiplier(held.product, held.multiplier)
        fields = {
            "multiplier": held.multiplier,
            "expires_at": held.expires_at,
            "is_trial": held.is_trial,
        }
        if held.line_id in kept and kept[held.line_id] is held:
            changes.change(live[held.line_id], **fields)
        else:
            changes.add(product=held.product, **fields)


def _check_multiplier(product: Product, multiplier: int) -> None:
    if multiplier < 1:
        raise ValidationError({"multiplier": _("The multiplier is 1 or more.")})
    if multiplier != 1 and not product_takes_multiplier(product):
        raise ValidationError(
            {
                "multiplier": _("%(product)s has no feature line that allows a multiplier.")
                % {"product": product.name}
            }
        )


def key_hold(
    *, key: LicenseKey, wanted: Sequence[Held], actor: Actor, at: datetime | None = None
) -> list[dict[str, Any]]:
    """A manager's change of the key's lines without a coupon: the key holds exactly the
    wanted lines afterwards; seats that no longer fit end. Returns the changes made."""
    moment = at or timezone.now()
    with transaction.atomic():
        locked = LicenseKey.objects.select_for_update().get(pk=key.pk)
        changes = _Changes(locked, moment)
        _hold(changes, wanted)
        if changes.rows:
            sessions_fit(key=locked, moment=moment)
            audit_record(
                actor=actor,
                action="key_line.change",
                instance=locked,
                before={"lines": [row["before"] for row in changes.rows]},
                after={"lines": [row["after"] for row in changes.rows]},
            )
    return changes.rows


def key_line_change(
    *,
    line: KeyLine,
    actor: Actor,
    multiplier: int,
    expires_at: datetime | None,
    purchased: bool = False,
    at: datetime | None = None,
) -> list[dict[str, Any]]:
    """Changes a live line's multiplier or expiry, or makes a trial line a purchased one."""
    moment = at or timezone.now()
    with transaction.atomic():
        # Locked before the lines are read: a line added meanwhile is kept, not ended.
        key = LicenseKey.objects.select_for_update().get(pk=line.key_id)
        return key_hold(
            key=key,
            wanted=_changed_line(
                key, line, moment, multiplier=multiplier, expires_at=expires_at, purchased=purchased
            ),
            actor=actor,
            at=moment,
        )


def _changed_line(
    key: LicenseKey,
    line: KeyLine,
    moment: datetime,
    *,
    multiplier: int,
    expires_at: datetime | None,
    purchased: bool,
) -> list[Held]:
    """The key's live lines as they are, but for the one line changed."""
    live = [other for other in key_lines(key) if line_is_live(other, at=moment)]
    if line.pk not in {other.pk for other in live}:
        raise ValidationError(_("Only a live line can be changed."), code="line_not_live")
    return [
        Held(
            product=other.product,
            multiplier=multiplier if other.pk == line.pk else other.multiplier,
            expires_at=expires_at if other.pk == line.pk else other.expires_at,
            is_trial=(other.is_trial and not purchased) if other.pk == line.pk else other.is_trial,
            line_id=other.pk,
        )
        for other in live
    ]


# The generator.


@dataclass(frozen=True)
class Row:
    """A product row of the generator."""

    product: Product
    multiplier: int = 1
    term: str = Term.PERPETUAL
    expires_at: datetime | None = None
    days: int | None = None
    key_line_id: int | None = None  # upgrade: the line of the key this row keeps


def _rows_errors(kind: str, rows: Sequence[Row], moment: datetime) -> list[str]:
    errors = []
    if not rows and kind != CouponKind.UPGRADE:
        errors.append(_("Add at least one product."))
    for row in rows:
        name = row.product.name
        if row.product.retired and row.key_line_id is None:
            errors.append(_("%(product)s is retired.") % {"product": name})
        if kind == CouponKind.TRIAL_EXTEND:
            if not row.days:
                errors.append(_("%(product)s: give the days to add.") % {"product": name})
            continue
        try:
            _check_multiplier(row.product, row.multiplier)
        except ValidationError as error:
            errors.extend(error.messages)
        if row.term == Term.FIXED_DATE and (row.expires_at is None or row.expires_at <= moment):
            errors.append(_("%(product)s: the expiry date must be ahead.") % {"product": name})
        if row.term == Term.DAYS and not row.days:
            errors.append(_("%(product)s: give the number of days.") % {"product": name})
    return errors


def coupon_batch_generate(
    *,
    kind: str,
    rows: Sequence[Row],
    actor: Actor,
    count: int = 1,
    reusable: bool = False,
    target_key: LicenseKey | None = None,
    distributor: Distributor | None = None,
    invoice_number: str = "",
    invoice_date: date | None = None,
    comment: str = "",
) -> CouponBatch:
    """A batch of `count` codes (up to 10,000, one transaction) giving the rows."""
    moment = timezone.now()
    errors = _rows_errors(kind, rows, moment)
    if not 1 <= count <= MAX_BATCH:
        errors.append(_("The number of codes is from 1 to %(max)d.") % {"max": MAX_BATCH})
    if reusable and kind != CouponKind.TRIAL_EXTEND:
        errors.append(_("Only a trial extension can be reusable."))
    if reusable and count != 1:
        errors.append(_("A reusable coupon is one code for everybody: generate one."))
    if kind == CouponKind.UPGRADE and (target_key is None or count != 1):
        errors.append(_("An upgrade coupon is one code bound to one key."))
    if errors:
        raise ValidationError(errors)
    prefix = vendor_settings_get().key_prefix
    for _attempt in range(GENERATION_ATTEMPTS):
        try:
            with transaction.atomic():
                batch = CouponBatch.objects.create(
                    kind=kind,
                    reusable=reusable,
                    target_key=target_key if kind == CouponKind.UPGRADE else None,
                    distributor=distributor,
                    invoice_number=invoice_number,
                    invoice_date=invoice_date,
                    comment=comment,
                    size=count,
                    created_by=actor.user,
                )
                CouponLine.objects.bulk_create(
                    CouponLine(
                        batch=batch,
                        product=row.product,
                        multiplier=row.multiplier,
                        term=row.term,
                        expires_at=row.expires_at if row.term == Term.FIXED_DATE else None,
                        days=row.days,
                        key_line_id=row.key_line_id,
                    )
                    for row in rows
                )
                Coupon.objects.bulk_create(
                    (Coupon(code=code, batch=batch) for code in _fresh_codes(prefix, count)),
                    batch_size=1000,
                )
                audit_record(
                    actor=actor,
                    action="coupon_batch.generate",
                    instance=batch,
                    after={
                        **snapshot(batch),
                        "lines": [snapshot(line) for line in batch.lines.all()],
                    },
                )
                return batch
        except IntegrityError:
            # A code drawn at the same moment by another batch: draw the whole batch again.
            continue
    raise RuntimeError("could not draw unused coupon codes")


def _fresh_codes(prefix: str, count: int) -> list[str]:
    """`count` distinct codes that no stored coupon has."""
    codes: set[str] = set()
    while len(codes) < count:
        while len(codes) < count:
            codes.update(keycodes.generate_coupons(prefix, count - len(codes)))
        listed = list(codes)
        for start in range(0, count, 500):
            codes.difference_update(
                Coupon.objects.filter(code__in=listed[start : start + 500]).values_list(
                    "code", flat=True
                )
            )
    return sorted(codes)


# Activation.


def key_upgrade_now(
    *, key: LicenseKey, rows: Sequence[Row], actor: Actor, **batch_fields: Any
) -> Activation:
    """An upgrade applied at once (Сразу активировать): its coupon made and activated in one
    transaction, so that a refused activation leaves no coupon behind."""
    with transaction.atomic():
        batch = coupon_batch_generate(
            kind=CouponKind.UPGRADE, rows=rows, actor=actor, target_key=key, **batch_fields
        )
        return coupon_activate(
            key_number=key.number, code=batch.coupons.get().code, door=Door.CABINET, actor=actor
        )


def _coupon_locked(code: str) -> Coupon:
    coupons = Coupon.objects.select_related("batch")
    # LICENTIA_COUPON_LOCK exists for the test that shows the race without the lock.
    if getattr(settings, "LICENTIA_COUPON_LOCK", True):
        coupons = coupons.select_for_update(of=("self",))
    coupon = coupons.filter(code=code).first()
    if coupon is None:
        raise Refusal(Code.UNKNOWN_COUPON)
    return coupon


def coupon_activate(
    *,
    key_number: str,
    code: str,
    door: str,
    actor: Actor,
    at: datetime | None = None,
) -> Activation:
    """Activates the coupon on the key: one transaction with the coupon and the key locked.
    Refuses 2026/2009/2060 for the key, 2040 unknown coupon, 2057 blocked, 2037 an upgrade
    for another key, 2041 already activated (a reusable one: by this client)."""
    number = key_number_parse(key_number)
    parsed = coupon_code_parse(code)
    if parsed is None:
        raise Refusal(Code.UNKNOWN_COUPON)
    with transaction.atomic():
        coupon = _coupon_locked(parsed)
        key = LicenseKey.objects.select_for_update().filter(number=number).first()
        if key is None:
            raise Refusal(Code.UNKNOWN_KEY)
        if key.blocked:
            raise Refusal(Code.KEY_BLOCKED)
        if coupon.blocked:
            raise Refusal(Code.COUPON_BLOCKED)
        batch = coupon.batch
        if batch.kind == CouponKind.UPGRADE and batch.target_key_id != key.pk:
            raise Refusal(Code.KEY_NOT_OF_COUPON)
        if _used(coupon, key):
            raise Refusal(
                Code.COUPON_USED,
                _("This client has activated this reusable coupon already.")
                if batch.reusable
                else None,
            )
        moment = at or timezone.now()
        changes = _Changes(key, moment)
        _apply(batch, changes)
        activation = Activation.objects.create(
            coupon=coupon,
            key=key,
            activated_at=moment,
            ip=actor.ip,
            door=door,
            actor_label=actor.label[:200],
            actor_user=actor.user,
            changes=changes.rows,
        )
        if not batch.reusable:
            coupon.activated_at = moment
            coupon.activated_key = key
            coupon.save(update_fields=["activated_at", "activated_key"])
        sessions_fit(key=key, moment=moment)
        audit_record(
            actor=actor,
            action="coupon.activate",
            instance=key,
            before={"lines": [row["before"] for row in changes.rows]},
            after={
                "coupon": coupon.code,
                "door": door,
                "activation": activation.pk,
                "lines": [row["after"] for row in changes.rows],
            },
        )
        coupon_activated.send(sender=Activation, activation=activation)
    return activation


def _used(coupon: Coupon, key: LicenseKey) -> bool:
    if not coupon.batch.reusable:
        return coupon.activated_at is not None
    return Activation.objects.filter(
        coupon=coupon, key__client_id=key.client_id, deactivated_at__isnull=True
    ).exists()


def _expiry(line: CouponLine, moment: datetime) -> datetime | None:
    if line.term == Term.FIXED_DATE:
        return line.expires_at
    if line.term == Term.DAYS:
        return moment + timedelta(days=line.days or 0)
    return None


def _apply(batch: CouponBatch, changes: _Changes) -> None:
    moment = changes.moment
    lines = list(batch.lines.select_related("product", "key_line").order_by("id"))
    if batch.kind == CouponKind.NEW_PRODUCT:
        for line in lines:
            for trial in trials_ended_by(changes.key, line.product).order_by("id"):
                changes.change(trial, state=LineState.ENDED_BY_PURCHASE, ended_at=moment)
        for line in lines:
            changes.add(
                product=line.product,
                multiplier=line.multiplier,
                expires_at=_expiry(line, moment),
            )
    elif batch.kind == CouponKind.TRIAL_EXTEND:
        for line in lines:
            _extend_trial(changes, line.product, line.days or 0)
    else:
        _hold(
            changes,
            [
                Held(
                    product=line.product,
                    multiplier=line.multiplier,
                    expires_at=_expiry(line, moment),
                    is_trial=_kept_is_trial(line),
                    line_id=line.key_line_id,
                )
                for line in lines
            ],
        )


def _kept_is_trial(line: CouponLine) -> bool:
    kept = line.key_line
    return kept is not None and kept.is_trial and kept.product_id == line.product_id


def _extend_trial(changes: _Changes, product: Product, days: int) -> None:
    """A calendar trial ends `days` later than now or its end, whichever is later; a
    usage-counted one gets `days` more days of use; a key without a trial of the product gets
    the product's trial, extended."""
    moment = changes.moment
    trial = (
        changes.key.lines.filter(product=product, is_trial=True, state=LineState.ACTIVE)
        .order_by("-id")
        .first()
    )
    calendar = product.trial_counting == TrialCounting.CALENDAR
    if (
        trial is None
        and changes.key.lines.filter(
            Q(is_trial=False, state=LineState.ACTIVE)
            | Q(is_trial=True, state=LineState.ENDED_BY_PURCHASE),
            product=product,
        ).exists()
    ):
        # A trial that a purchase ended, or a product bought outright, is not brought back.
        raise ValidationError(
            {
                "coupon": _("The key has bought %(product)s: it has no trial to extend.")
                % {"product": product.name}
            },
            code="bought",
        )
    if trial is None:
        changes.add(
            product=product,
            is_trial=True,
            expires_at=moment + timedelta(days=product.trial_days + days) if calendar else None,
            trial_days_added=0 if calendar else days,
        )
    elif calendar:
        end = max(moment, trial.expires_at or moment)
        changes.change(trial, expires_at=end + timedelta(days=days))
    else:
        changes.change(trial, trial_days_added=trial.trial_days_added + days)


# Deactivation and blocking.


def activation_deactivate(
    *, activation: Activation, actor: Actor, at: datetime | None = None
) -> Activation:
    """Puts the key's lines back as they were before the activation, makes a single-use
    coupon usable again, ends seats that no longer fit. Refused, with nothing changed, when a
    later activation or a manual edit changed the same lines."""
    moment = at or timezone.now()
    with transaction.atomic():
        Coupon.objects.select_for_update().get(pk=activation.coupon_id)
        key = LicenseKey.objects.select_for_update().get(pk=activation.key_id)
        current = Activation.objects.select_related("coupon__batch").get(pk=activation.pk)
        if current.deactivated_at is not None:
            raise ValidationError(_("This activation was undone already."), code="undone")
        rows = current.changes
        # A line goes only with its key, and the activation with it: every line is here.
        lines = KeyLine.objects.select_related("product").in_bulk([row["line"] for row in rows])
        changed = [
            lines[row["line"]].product.name
            for row in rows
            if line_record(lines[row["line"]]) != row["after"]
        ]
        if changed:
            raise ValidationError(
                _(
                    "The coupon cannot be deactivated: a later activation or a manual edit "
                    "changed these lines since: %(products)s."
                )
                % {"products": ", ".join(changed)},
                code="changed_since",
            )
        for row in rows:
            line = lines[row["line"]]
            if row["before"] is None:
                line.state = LineState.REMOVED_BY_COUPON
                line.ended_at = moment
                line.save(update_fields=["state", "ended_at"])
            else:
                _restore(line, row["before"])
        coupon = current.coupon
        if not coupon.batch.reusable:
            coupon.activated_at = None
            coupon.activated_key = None
            coupon.save(update_fields=["activated_at", "activated_key"])
        current.deactivated_at = moment
        current.deactivated_by = actor.label[:200]
        current.save(update_fields=["deactivated_at", "deactivated_by"])
        sessions_fit(key=key, moment=moment)
        audit_record(
            actor=actor,
            action="coupon.deactivate",
            instance=key,
            before={"coupon": coupon.code, "lines": [row["after"] for row in rows]},
            after={"coupon": coupon.code, "lines": [row["before"] for row in rows]},
        )
        coupon_deactivated.send(sender=Activation, activation=current)
    return current


def coupons_set_blocked(*, coupons: QuerySet[Coupon], blocked: bool, actor: Actor) -> int:
    """Blocks or unblocks the coupons; returns how many changed."""
    with transaction.atomic():
        # The rows alone, by a subquery: a list's query may join tables a row lock cannot
        # reach, and tens of thousands of ids are more than SQLite takes as parameters.
        changed = list(
            Coupon.objects.select_for_update()
            .filter(pk__in=coupons.values("pk"))
            .exclude(blocked=blocked)
        )
        Coupon.objects.filter(pk__in=coupons.values("pk"), blocked=not blocked).update(
            blocked=blocked
        )
        for coupon in changed:
            audit_record(
                actor=actor,
                action="coupon.block" if blocked else "coupon.unblock",
                instance=coupon,
                before={"blocked": not blocked},
                after={"blocked": blocked},
            )
    return len(changed)
