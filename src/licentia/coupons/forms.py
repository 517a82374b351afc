from typing import Any

from django import forms
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _
from unfold.widgets import (
    UnfoldAdminIntegerFieldWidget,
    UnfoldAdminSelectWidget,
    UnfoldAdminTextareaWidget,
    UnfoldAdminTextInputWidget,
    UnfoldBooleanSwitchWidget,
)

from licentia.catalog.models import Product
from licentia.clients.models import Distributor
from licentia.core.moments import DayField, MomentField, day_end
from licentia.coupons.models import CouponKind, Term
from licentia.coupons.services import MAX_BATCH, Row
from licentia.keys.models import KeyLine


class GeneratorForm(forms.Form):
    """The generator's common fields (Генератор купонов)."""

    kind = forms.ChoiceField(
        label=capfirst(_("kind")),
        choices=[
            (CouponKind.NEW_PRODUCT, CouponKind.NEW_PRODUCT.label),
            (CouponKind.TRIAL_EXTEND, CouponKind.TRIAL_EXTEND.label),
        ],
        widget=UnfoldAdminSelectWidget,
    )
    reusable = forms.BooleanField(
        label=capfirst(_("reusable")),
        required=False,
        help_text=_("Extend the trial only: one code for everybody, once per client."),
        widget=UnfoldBooleanSwitchWidget,
    )
    distributor = forms.ModelChoiceField(
        label=capfirst(_("distributor")),
        queryset=Distributor.objects.all(),
        required=False,
        widget=UnfoldAdminSelectWidget,
    )
    invoice_number = forms.CharField(
        label=capfirst(_("CRM invoice number")),
        max_length=64,
        required=False,
        widget=UnfoldAdminTextInputWidget,
    )
    invoice_date = DayField(label=capfirst(_("CRM invoice date")), required=False)
    comment = forms.CharField(
        label=capfirst(_("comment")), required=False, widget=UnfoldAdminTextareaWidget
    )
    count = forms.IntegerField(
        label=capfirst(_("number of codes")),
        min_value=1,
        max_value=MAX_BATCH,
        initial=1,
        widget=UnfoldAdminIntegerFieldWidget,
    )
    activate_now = forms.BooleanField(
        label=_("Activate at once"),
        required=False,
        help_text=_("Apply the new composition to the key now instead of producing a code."),
        widget=UnfoldBooleanSwitchWidget,
    )

    def __init__(self, *args: Any, upgrade: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if upgrade:
            for name in ("kind", "reusable", "count"):
                del self.fields[name]
        else:
            del self.fields["activate_now"]


class RowForm(forms.Form):
    """A product row: for a new product or an upgrade its multiplier and term, for a trial
    extension the days to add."""

    product = forms.ModelChoiceField(
        label=capfirst(_("product")),
        queryset=Product.objects.all(),
        widget=UnfoldAdminSelectWidget,
    )
    multiplier = forms.IntegerField(
        label=capfirst(_("multiplier")),
        min_value=1,
        initial=1,
        widget=UnfoldAdminIntegerFieldWidget,
    )
    term = forms.ChoiceField(
        label=capfirst(_("term")),
        choices=Term.choices,
        initial=Term.PERPETUAL,
        widget=UnfoldAdminSelectWidget,
    )
    expires_on = DayField(label=capfirst(_("expiry date")), required=False)
    days = forms.IntegerField(
        label=capfirst(_("days")),
        min_value=1,
        max_value=36500,
        required=False,
        widget=UnfoldAdminIntegerFieldWidget,
    )
    key_line = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def has_changed(self) -> bool:
        # A spare row with no product chosen is left out, whatever its other fields say.
        return bool(self["product"].data) and super().has_changed()

    def row(self, lines: dict[int, KeyLine]) -> Row:
        data = self.cleaned_data
        kept = lines.get(data["key_line"]) if data.get("key_line") else None
        expires_at = None
        if data["term"] == Term.FIXED_DATE and data.get("expires_on"):
            expires_at = day_end(data["expires_on"])
            kept_end = kept.expires_at if kept is not None else None
            # The date as it was: the line keeps its exact moment.
            if kept_end is not None and timezone.localdate(kept_end) == data["expires_on"]:
                expires_at = kept_end
        return Row(
            product=data["product"],
            multiplier=data["multiplier"],
            term=data["term"],
            expires_at=expires_at,
            days=data.get("days"),
            key_line_id=kept.pk if kept is not None else None,
        )


RowFormSet = forms.formset_factory(RowForm, extra=3, can_delete=True, max_num=200)


def row_initial(line: KeyLine) -> dict[str, Any]:
    """An upgrade's "after" row for a line the key holds, as it is."""
    return {
        "product": line.product_id,
        "multiplier": line.multiplier,
        "term": Term.FIXED_DATE if line.expires_at else Term.PERPETUAL,
        "expires_on": timezone.localdate(line.expires_at) if line.expires_at else None,
        "key_line": line.pk,
    }


class ActivateForm(forms.Form):
    key = forms.CharField(
        label=capfirst(_("license key")), max_length=64, widget=UnfoldAdminTextInputWidget
    )
    coupon = forms.CharField(
        label=capfirst(_("coupon")), max_length=64, widget=UnfoldAdminTextInputWidget
    )


class LineChangeForm(forms.Form):
    """A live line changed by hand: multiplier, expiry, a trial made a purchase."""

    line = forms.ModelChoiceField(
        label=capfirst(_("product in the key")),
        queryset=KeyLine.objects.none(),
        widget=UnfoldAdminSelectWidget,
    )
    multiplier = forms.IntegerField(
        label=capfirst(_("multiplier")), min_value=1, initial=1, widget=UnfoldAdminTextInputWidget
    )
    expires_at = MomentField(
        label=capfirst(_("expiry")),
        ends_day=True,
        required=False,
        help_text=_("Empty: perpetual. A date alone: the license holds through that day."),
    )
    purchased = forms.BooleanField(
        label=_("Make a trial a purchase"), required=False, widget=UnfoldBooleanSwitchWidget
    )

    def __init__(self, *args: Any, lines: list[KeyLine], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["line"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = KeyLine.objects.filter(pk__in=[line.pk for line in lines])
        names = {line.pk: line.product.name for line in lines}
        field.label_from_instance = lambda line: (  # type: ignore[method-assign,assignment]
            f"#{line.pk} {names[line.pk]} × {line.multiplier}"
            + (f" · {_('trial')}" if line.is_trial else "")
        )
