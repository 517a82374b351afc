"""What the coupons app tells the apps above it (notifications)."""

from django.dispatch import Signal

# A coupon was activated on a key, in the activation's transaction: kwargs activation.
coupon_activated = Signal()
# An activation was undone, in the deactivation's transaction: kwargs activation.
coupon_deactivated = Signal()
