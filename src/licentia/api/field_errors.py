"""Field errors of an invalid request, worded in the language the application asked for:
the validator's own texts are English only. Kinds not listed keep the validator's text."""

from typing import Any

from django.utils.translation import gettext_lazy as _

MESSAGES = {
    "missing": _("This field is required."),
    "string_type": _("Enter a text."),
    "string_too_short": _("Enter at least %(min_length)s characters."),
    "string_too_long": _("Enter at most %(max_length)s characters."),
    "string_pattern_mismatch": _("The text holds a character that is not allowed."),
    "int_type": _("Enter a whole number."),
    "int_parsing": _("Enter a whole number."),
    "int_from_float": _("Enter a whole number."),
    "greater_than_equal": _("Enter a number of at least %(ge)s."),
    "less_than_equal": _("Enter a number of at most %(le)s."),
    "literal_error": _("Choose one of: %(expected)s."),
    "dict_type": _("Enter an object."),
    "model_type": _("Enter an object."),
    "too_long": _("Enter at most %(max_length)s entries."),
    "uuid_type": _("Enter an identifier in the form of a UUID."),
    "uuid_parsing": _("Enter an identifier in the form of a UUID."),
}


def field_error_text(error: dict[str, Any]) -> str:
    template = MESSAGES.get(str(error.get("type", "")))
    if template is None:
        return str(error.get("msg", ""))
    try:
        return str(template) % (error.get("ctx") or {})
    except (KeyError, TypeError, ValueError):
        return str(error.get("msg", ""))
