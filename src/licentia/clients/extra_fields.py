"""The kinds of additional fields (дополнительные поля): for each, how the services read a
value, whichever way it comes (the card, the API, a merge), and how the client card asks for it.
A new kind is one entry here."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _
from unfold.widgets import (
    UnfoldAdminSelectWidget,
    UnfoldAdminTextInputWidget,
    UnfoldBooleanSwitchWidget,
)

from licentia.clients.models import ClientFieldDefinition, ExtraFieldKind
from licentia.core.moments import DayField


def _read_text(definition: ClientFieldDefinition, value: Any) -> str:
    return str(value).strip()


def _read_number(definition: ClientFieldDefinition, value: Any) -> int | str:
    try:
        number = Decimal(str(value).replace(",", ".").strip())
    except InvalidOperation as error:
        raise ValidationError(_("Enter a number.")) from error
    if not number.is_finite():
        raise ValidationError(_("Enter a number."))
    return int(number) if number == number.to_integral_value() else str(number)


def _read_date(definition: ClientFieldDefinition, value: Any) -> str:
    try:
        parsed = value if isinstance(value, date) else parse_date(str(value).strip())
    except ValueError:  # well formed but no such day: 2024-02-30
        parsed = None
    if parsed is None:
        raise ValidationError(_("Enter a date as YYYY-MM-DD."))
    return parsed.isoformat()


def _read_boolean(definition: ClientFieldDefinition, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in {"1", "true", "yes", "да"}:
        return True
    if text in {"0", "false", "no", "нет"}:
        return False
    raise ValidationError(_("Enter yes or no."))


def _read_choice(definition: ClientFieldDefinition, value: Any) -> str:
    choice = str(value).strip()
    if choice not in definition.choice_list():
        raise ValidationError(
            _("Choose one of: %(choices)s.") % {"choices": ", ".join(definition.choice_list())}
        )
    return choice


def _choice_field(definition: ClientFieldDefinition, **options: Any) -> forms.Field:
    choices = [("", "—"), *((value, value) for value in definition.choice_list())]
    return forms.ChoiceField(choices=choices, widget=UnfoldAdminSelectWidget, **options)


@dataclass(frozen=True)
class ExtraKind:
    # The value as stored, or a ValidationError saying what is wrong with it.
    read: Callable[[ClientFieldDefinition, Any], Any]
    # The card's field for it, given its label and whether it is required.
    form_field: Callable[..., forms.Field]


EXTRA_KINDS: dict[str, ExtraKind] = {
    ExtraFieldKind.TEXT: ExtraKind(
        read=_read_text,
        form_field=lambda definition, **options: forms.CharField(
            widget=UnfoldAdminTextInputWidget, max_length=500, **options
        ),
    ),
    ExtraFieldKind.NUMBER: ExtraKind(
        read=_read_number,
        form_field=lambda definition, **options: forms.DecimalField(
            widget=UnfoldAdminTextInputWidget, **options
        ),
    ),
    ExtraFieldKind.DATE: ExtraKind(
        read=_read_date,
        form_field=lambda definition, **options: DayField(**options),
    ),
    ExtraFieldKind.BOOLEAN: ExtraKind(
        read=_read_boolean,
        form_field=lambda definition, **options: forms.BooleanField(
            widget=UnfoldBooleanSwitchWidget, **options
        ),
    ),
    ExtraFieldKind.CHOICE: ExtraKind(read=_read_choice, form_field=_choice_field),
}


def extra_value_read(definition: ClientFieldDefinition, value: Any) -> Any:
    """The value of an additional field as stored, or a ValidationError."""
    return EXTRA_KINDS[definition.kind].read(definition, value)


def extra_form_field(definition: ClientFieldDefinition, **options: Any) -> forms.Field:
    return EXTRA_KINDS[definition.kind].form_field(definition, **options)
