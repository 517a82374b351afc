from typing import Any

from django import forms
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _
from unfold.widgets import (
    UnfoldAdminSelectWidget,
    UnfoldAdminTextareaWidget,
    UnfoldAdminTextInputWidget,
    UnfoldBooleanSwitchWidget,
)

from licentia.catalog.models import Product
from licentia.clients.models import Client, Distributor
from licentia.core.models import User
from licentia.core.moments import MomentField, this_minute
from licentia.keys.models import LicenseKey

# The client's fields that the key card shows and edits in place.
CLIENT_FIELDS_ON_KEY = ("contact", "phone", "email", "distributor", "manager", "comment")


class LicenseKeyForm(forms.ModelForm):
    """The key card's first tab: the key's client and the client's own fields."""

    contact = forms.CharField(
        label=capfirst(_("contact")), required=False, widget=UnfoldAdminTextInputWidget
    )
    phone = forms.CharField(
        label=capfirst(_("phone")), required=False, widget=UnfoldAdminTextInputWidget
    )
    email = forms.CharField(
        label=capfirst(_("e-mail")), required=False, widget=UnfoldAdminTextInputWidget
    )
    distributor = forms.ModelChoiceField(
        label=capfirst(_("distributor")),
        queryset=Distributor.objects.all(),
        required=False,
        widget=UnfoldAdminSelectWidget,
    )
    manager = forms.ModelChoiceField(
        label=capfirst(_("responsible manager")),
        queryset=User.objects.filter(is_active=True, is_staff=True),
        required=False,
        widget=UnfoldAdminSelectWidget,
    )
    comment = forms.CharField(
        label=capfirst(_("comment")), required=False, widget=UnfoldAdminTextareaWidget
    )

    class Meta:
        model = LicenseKey
        # Blocking is the card's own button, which asks for a confirmation first.
        fields = ["client"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        client: Client | None = getattr(self.instance, "client", None)
        if client is not None:
            for name in CLIENT_FIELDS_ON_KEY:
                self.initial.setdefault(name, getattr(client, name))

    def client_changes(self) -> dict[str, Any]:
        client = self.instance.client
        return {
            name: self.cleaned_data[name]
            for name in CLIENT_FIELDS_ON_KEY
            if self.cleaned_data[name] != (getattr(client, name) or "")
            and not (self.cleaned_data[name] in (None, "") and getattr(client, name) in (None, ""))
        }


class KeyLineAddForm(forms.Form):
    product = forms.ModelChoiceField(
        label=capfirst(_("product")),
        queryset=Product.objects.filter(retired=False),
        widget=UnfoldAdminSelectWidget,
    )
    multiplier = forms.IntegerField(
        label=capfirst(_("multiplier")), min_value=1, initial=1, widget=UnfoldAdminTextInputWidget
    )
    is_trial = forms.BooleanField(
        label=capfirst(_("trial")), required=False, widget=UnfoldBooleanSwitchWidget
    )
    starts_at = MomentField(label=capfirst(_("start")), initial=this_minute)
    expires_at = MomentField(
        label=capfirst(_("expiry")),
        ends_day=True,
        required=False,
        help_text=_("Empty: perpetual. A date alone: the license holds through that day."),
    )
