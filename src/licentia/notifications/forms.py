from typing import Any

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from unfold.contrib.forms.widgets import WysiwygWidget
from unfold.widgets import (
    UnfoldAdminPasswordWidget,
    UnfoldAdminSelectWidget,
    UnfoldAdminTextInputWidget,
    UnfoldBooleanSwitchWidget,
)

from licentia.notifications.models import MailSettings, MailTemplate
from licentia.notifications.services import MAIL_SETTINGS_EDITABLE, mail_template_check


class MailTemplateForm(forms.ModelForm):
    class Meta:
        model = MailTemplate
        fields = ("subject", "html", "enabled")
        widgets = {
            "subject": UnfoldAdminTextInputWidget(attrs={"class": "font-mono"}),
            "html": WysiwygWidget(),
            "enabled": UnfoldBooleanSwitchWidget(),
        }

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if "subject" in cleaned and "html" in cleaned:
            try:
                mail_template_check(
                    kind=self.instance.kind, subject=cleaned["subject"], html=cleaned["html"]
                )
            except ValidationError as error:
                for name, messages in error.message_dict.items():
                    self.add_error(name, messages)
        return cleaned


class MailSettingsForm(forms.ModelForm):
    password = forms.CharField(
        label=_("Password"),
        required=False,
        strip=False,
        widget=UnfoldAdminPasswordWidget(render_value=False),
        help_text=_("Stored encrypted. Leave empty to keep the current one."),
    )
    clear_password = forms.BooleanField(
        label=_("Remove the stored password"), required=False, widget=UnfoldBooleanSwitchWidget()
    )

    class Meta:
        model = MailSettings
        fields = (*MAIL_SETTINGS_EDITABLE, "digest_opt_out")
        widgets = {"security": UnfoldAdminSelectWidget()}

    def new_password(self) -> str | None:
        """None keeps the stored password."""
        if self.cleaned_data.get("clear_password"):
            return ""
        return self.cleaned_data.get("password") or None


def environment_mail_summary() -> str:
    backend = settings.EMAIL_BACKEND.rsplit(".", 2)[-2]
    if backend != "smtp":
        return str(_("mail is printed to the log, not sent (EMAIL_URL is not set)"))
    security = "TLS" if settings.EMAIL_USE_SSL else "STARTTLS" if settings.EMAIL_USE_TLS else ""
    return f"smtp://{settings.EMAIL_HOST}:{settings.EMAIL_PORT} {security}".strip()
