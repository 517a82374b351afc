"""Reads of coupons: a typed code as stored, a coupon's state, a key's activations."""

from django.db import models
from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy

from licentia.catalog.models import Product
from licentia.core import keycodes
from licentia.coupons.models import Activation, Coupon
from licentia.keys.models import LicenseKey

COUPON_PREFIX_LENGTH = keycodes.PREFIX_LENGTH + len(keycodes.COUPON_INFIX)


def coupon_code_parse(typed: str) -> str | None:
    """A coupon code as stored, from a code typed in any formatting (case, spaces, dashes,
    look-alikes as keys accept them); None when it is malformed."""
    parsed = keycodes.parse_code(typed, prefix_length=COUPON_PREFIX_LENGTH)
    if parsed is None or not parsed[0].endswith(keycodes.COUPON_INFIX):
        return None
    return keycodes.format_code(*parsed)


def product_takes_multiplier(product: Product) -> bool:
    return product.lines.filter(multiplier_allowed=True).exists()


class CouponState(models.TextChoices):
    FREE = "free", gettext_lazy("free")
    ACTIVATED = "activated", gettext_lazy("activated")
    BLOCKED = "blocked", gettext_lazy("blocked")
    REUSABLE = "reusable", gettext_lazy("reusable")


def coupon_state(coupon: Coupon) -> str:
    if coupon.blocked:
        return CouponState.BLOCKED
    if coupon.batch.reusable:
        return CouponState.REUSABLE
    return CouponState.ACTIVATED if coupon.activated_at else CouponState.FREE


def coupons_in_state(coupons: QuerySet[Coupon], state: str) -> QuerySet[Coupon]:
    return {
        CouponState.BLOCKED: coupons.filter(blocked=True),
        CouponState.REUSABLE: coupons.filter(blocked=False, batch__reusable=True),
        CouponState.ACTIVATED: coupons.filter(
            blocked=False, batch__reusable=False, activated_at__isnull=False
        ),
        CouponState.FREE: coupons.filter(
            blocked=False, batch__reusable=False, activated_at__isnull=True
        ),
    }[CouponState(state)]


def coupons_of_client(coupons: QuerySet[Coupon], client_id: int) -> QuerySet[Coupon]:
    """The coupons activated on the client's keys, or generated for one of them."""
    return coupons.filter(
        Q(activations__key__client_id=client_id) | Q(batch__target_key__client_id=client_id)
    ).distinct()


def key_activations(key: LicenseKey) -> list[Activation]:
    return list(
        Activation.objects.filter(key=key)
        .select_related("coupon__batch")
        .order_by("-activated_at", "-id")
    )
