from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from licentia.catalog.models import LicenseType
from licentia.releases.models import DistributionKind

PERIODS = (7, 30, 90, 365)


class SignInForm(forms.Form):
    key = forms.CharField(label=_("License key"), max_length=64)
    email = forms.EmailField(label=_("E-mail"), max_length=254)


class PeriodForm(forms.Form):
    days = forms.TypedChoiceField(
        label=_("Period"),
        choices=[(n, _("%(days)d days") % {"days": n}) for n in PERIODS],
        coerce=int,
        required=False,
    )
    key = forms.IntegerField(required=False, min_value=1)


class MonitorFilterForm(forms.Form):
    key = forms.IntegerField(required=False, min_value=1)
    feature = forms.IntegerField(required=False, min_value=0)
    type = forms.ChoiceField(choices=[("", ""), *LicenseType.choices], required=False)


class CouponForm(forms.Form):
    key = forms.IntegerField(label=_("License key"), min_value=1)
    code = forms.CharField(label=_("Coupon"), max_length=64)


class SettingsForm(forms.Form):
    cabinet_language = forms.ChoiceField(
        label=_("Language of the cabinet"), choices=settings.LANGUAGES
    )
    language = forms.ChoiceField(label=_("Language of the mail"), choices=settings.LANGUAGES)
    alert_email = forms.EmailField(
        label=_("Alert e-mail"),
        required=False,
        help_text=_("License problems and new releases are mailed here."),
    )


class AddressForm(forms.Form):
    email = forms.EmailField(label=_("E-mail"), max_length=254)


class DistributionFilterForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("Type"), choices=[("", "—"), *DistributionKind.choices], required=False
    )
    q = forms.CharField(label=_("Search"), max_length=200, required=False)
