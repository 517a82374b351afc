"""How webhooks react to the apps below: each event becomes deliveries in its transaction."""

from datetime import datetime
from typing import Any

from django.dispatch import receiver

from licentia.clients.models import Client
from licentia.clients.signals import client_created, client_deleted, client_updated, clients_merged
from licentia.coupons.models import Activation
from licentia.coupons.signals import coupon_activated, coupon_deactivated
from licentia.keys.models import KeyLine, LicenseKey
from licentia.licensing.models import Session
from licentia.licensing.refusals import refusal_message
from licentia.licensing.signals import capture_refused, session_reset, trial_registered
from licentia.licensing.units import Unit
from licentia.webhooks.models import Event
from licentia.webhooks.services import deliveries_write, line_data


def client_data(client: Client) -> dict[str, Any]:
    return {
        "id": client.pk,
        "company": client.company,
        "contact": client.contact,
        "phone": client.phone,
        "email": client.email,
        "crm_id1": client.crm_id1,
        "crm_id2": client.crm_id2,
        "manager_id": client.manager_id,
        "distributor_id": client.distributor_id,
        "language": client.language,
        "source": client.source,
        "extra": client.extra,
        "updated_at": client.updated_at,
    }


@receiver(client_created)
def hook_client_created(*, client: Client, **_: Any) -> None:
    deliveries_write(event=Event.CLIENT_CREATED, data={"client": client_data(client)})


@receiver(client_updated)
def hook_client_updated(*, client: Client, **_: Any) -> None:
    deliveries_write(event=Event.CLIENT_UPDATED, data={"client": client_data(client)})


@receiver(clients_merged)
def hook_clients_merged(*, client: Client, merged_ids: list[int], **_: Any) -> None:
    deliveries_write(
        event=Event.CLIENT_MERGED,
        data={"client": client_data(client), "merged_ids": merged_ids},
    )


@receiver(client_deleted)
def hook_client_deleted(*, client_id: int, card: dict[str, Any], **_: Any) -> None:
    data = {name: card.get(name, "") for name in ("company", "crm_id1", "crm_id2", "email")}
    deliveries_write(event=Event.CLIENT_DELETED, data={"client": {"id": client_id, **data}})


@receiver(trial_registered)
def hook_trial_created(*, line: KeyLine, key: LicenseKey, **_: Any) -> None:
    deliveries_write(
        event=Event.TRIAL_CREATED,
        data={**line_data(line), "client": client_data(key.client)},
    )


def _activation_data(activation: Activation) -> dict[str, Any]:
    return {
        "activation_id": activation.pk,
        "coupon": activation.coupon.code,
        "key": activation.key.number,
        "client_id": activation.key.client_id,
        "activated_at": activation.activated_at,
        "door": activation.door,
    }


@receiver(coupon_activated)
def hook_coupon_activated(*, activation: Activation, **_: Any) -> None:
    deliveries_write(event=Event.COUPON_ACTIVATED, data=_activation_data(activation))


@receiver(coupon_deactivated)
def hook_coupon_deactivated(*, activation: Activation, **_: Any) -> None:
    deliveries_write(
        event=Event.COUPON_DEACTIVATED,
        data={**_activation_data(activation), "deactivated_at": activation.deactivated_at},
    )


@receiver(capture_refused)
def hook_license_problem(
    *,
    key: LicenseKey | None,
    key_number: str,
    feature_id: int,
    code: int,
    unit: Unit,
    moment: datetime,
    **_: Any,
) -> None:
    # Once a day per key, feature, unit and reason, as the Problems page counts them.
    day = moment.date().isoformat()
    deliveries_write(
        event=Event.LICENSE_PROBLEM,
        data={
            "key": key.number if key else key_number,
            "client_id": key.client_id if key else None,
            "feature_id": feature_id,
            "code": code,
            "message": refusal_message(code),
            "user": unit.user,
            "host": unit.host,
            "database": unit.database,
            "at": moment,
        },
        dedupe_key=f"problem:{key_number}:{feature_id}:{unit.any_name()}:{code}:{day}"[:200],
    )


@receiver(session_reset)
def hook_session_reset(*, session: Session, **_: Any) -> None:
    deliveries_write(
        event=Event.SESSION_RESET,
        data={
            "session_id": session.public_id,
            "key": session.key.number,
            "client_id": session.key.client_id,
            "feature_id": session.feature_id,
            "user": session.user,
            "host": session.host,
            "reason": session.end_reason,
            "ended_at": session.ended_at,
        },
    )
