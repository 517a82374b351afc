from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from unfold.widgets import UnfoldBooleanSwitchWidget

from licentia.clients.extra_fields import extra_form_field
from licentia.clients.models import Client, ClientFieldDefinition, ExtraFieldKind
from licentia.clients.services import CLIENT_FIELDS, InvalidInnWarning, client_clean
from licentia.core.models import User
from licentia.core.normalize import inn_is_valid, looks_like_inn

EXTRA_PREFIX = "extra__"


def extra_field_label(definition: ClientFieldDefinition) -> str:
    if get_language() == "en" and definition.label_en:
        return definition.label_en
    return definition.label_ru


class ClientForm(forms.ModelForm):
    """The client card; validation is the service's, so the cabinet and the API agree."""

    accept_invalid_inn = forms.BooleanField(
        label=_("Keep CRM ID1 as typed even though its INN check digit is wrong"),
        required=False,
        widget=UnfoldBooleanSwitchWidget,
    )

    class Meta:
        model = Client
        fields = [name for name in CLIENT_FIELDS if name != "extra"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if "manager" in self.fields:
            manager_field = self.fields["manager"]
            assert isinstance(manager_field, forms.ModelChoiceField)
            manager_field.queryset = User.objects.filter(is_active=True, is_staff=True)
        self.extra_definitions = list(ClientFieldDefinition.objects.filter(archived=False))
        for definition in self.extra_definitions:
            name = EXTRA_PREFIX + definition.code
            self.fields[name] = extra_form_field(
                definition, label=extra_field_label(definition), required=False
            )
            self.initial.setdefault(name, self.instance.extra.get(definition.code))

    def extra_values(self) -> dict[str, Any]:
        """The additional fields as the service takes them; archived ones are kept as stored."""
        values = dict(self.instance.extra)
        for definition in self.extra_definitions:
            value = self.cleaned_data.get(EXTRA_PREFIX + definition.code)
            if value in (None, "") or (definition.kind == ExtraFieldKind.BOOLEAN and not value):
                values.pop(definition.code, None)
                if definition.kind == ExtraFieldKind.BOOLEAN and definition.required:
                    values[definition.code] = False
            else:
                values[definition.code] = value
        return values

    def service_fields(self) -> dict[str, Any]:
        fields = {name: self.cleaned_data.get(name) for name in self._meta.fields or ()}
        fields["extra"] = self.extra_values()
        return fields

    def _post_clean(self) -> None:
        # The model's own validation is replaced by the service's, which normalises too. It runs
        # even when a field failed already, so that every mistake is shown at once; a field
        # keeps the first error it got.
        failed = set(self.errors)
        crm_id1 = str(self.cleaned_data.get("crm_id1") or "")
        try:
            client_clean(
                self.service_fields(),
                accept_invalid_inn=self.cleaned_data.get("accept_invalid_inn", False),
            )
        except InvalidInnWarning as warning:
            self.add_error("crm_id1", warning.message_dict["crm_id1"])
            self.add_error("accept_invalid_inn", _("Tick this to keep the INN as typed."))
        except ValidationError as error:
            for name, messages in error.message_dict.items():
                field = (
                    EXTRA_PREFIX + name.removeprefix("extra.")
                    if name.startswith("extra.")
                    else name
                )
                if field in failed:
                    continue
                self.add_error(field if field in self.fields else None, messages)
                doubtful = looks_like_inn(crm_id1) and not inn_is_valid(crm_id1)
                if field == "crm_id1" and doubtful and "accept_invalid_inn" in self.fields:
                    self.add_error("accept_invalid_inn", _("Tick this to keep the INN as typed."))
