"""Token consumption (Расход токенов): a ledger per key and feature, never below zero."""

from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from licentia.keys.selectors import key_license
from licentia.licensing.models import TokenConsumption
from licentia.licensing.refusals import Code, Refusal, invalid
from licentia.licensing.selectors import key_number_parse, tokens_consumed
from licentia.licensing.services.access import TOKEN_TYPES, granted_pools, key_locked


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
    number = key_number_parse(key_number)
    with transaction.atomic():
        key, lines = key_locked(number)
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
        license_ = key_license(key, at or timezone.now(), lines=lines)
        [pool] = granted_pools(license_, feature_id, TOKEN_TYPES)
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
