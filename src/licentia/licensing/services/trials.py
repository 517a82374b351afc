"""The trial questionnaire (триал через анкету): the client, its key and the product's trial."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from licentia.catalog.models import Product, TrialCounting
from licentia.clients.models import Client, ClientSource
from licentia.clients.services import client_clean, client_create
from licentia.core.audit import Actor, audit_record
from licentia.core.models import VendorSettings
from licentia.core.normalize import company_key
from licentia.keys.models import KeyLine, LicenseKey, LineState
from licentia.keys.selectors import line_is_live
from licentia.keys.services import key_line_add, license_key_generate
from licentia.licensing.certificates import fingerprint_sha256
from licentia.licensing.models import MachineRegistration
from licentia.licensing.refusals import Code, Refusal, invalid, missing
from licentia.licensing.signals import trial_registered
from licentia.licensing.units import Unit, application_actor


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
        raise missing(["email"])
    if not fingerprint:
        raise missing(["fingerprint"])
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
            trial_registered.send(sender=KeyLine, line=line, key=key)
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
        trials_ended_by(key, product).update(state=LineState.ENDED_BY_PURCHASE, ended_at=moment)
        return line
    expires = (
        moment + timedelta(days=product.trial_days)
        if product.trial_counting == TrialCounting.CALENDAR
        else None
    )
    return key_line_add(
        key=key, product=product, actor=actor, is_trial=True, starts_at=moment, expires_at=expires
    )


def trials_ended_by(key: LicenseKey, product: Product) -> QuerySet[KeyLine]:
    """The key's trial lines that a purchase of the product ends (as ENDED_BY_PURCHASE): the
    trial of the product itself and those of the trial products it lists to end."""
    ended = [product.pk, *product.ends_trials.values_list("pk", flat=True)]
    return key.lines.filter(product__in=ended, is_trial=True, state=LineState.ACTIVE)


def trial_grant(
    *, key: LicenseKey, product_id: int, actor: Actor, at: datetime | None = None
) -> KeyLine | None:
    """Adds the product's trial to a key that asks for something the trial opens (a
    subscription's releases): by the rule of the questionnaire, once per product per key.
    None when the key had it already, is blocked, or the product gives no trial."""
    moment = at or timezone.now()
    product = Product.objects.filter(pk=product_id, retired=False).first()
    if product is None or not (product.trial_days or product.permanent_instead_of_trial):
        return None
    with transaction.atomic():
        locked = LicenseKey.objects.select_for_update().get(pk=key.pk)
        if locked.blocked:
            return None
        line = _trial_line(locked, product, actor, moment)
        if line is None:
            return None
        audit_record(
            actor=actor,
            action="trial.grant",
            instance=locked,
            after={"product": product.pk, "line": line.pk},
        )
        trial_registered.send(sender=KeyLine, line=line, key=locked)
    return line
