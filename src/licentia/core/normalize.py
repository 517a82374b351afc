"""Normalisation of what people type: e-mails, phones, INNs and search text."""

import re

import phonenumbers
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.translation import gettext as _
from stdnum.ru import inn as russian_inn

DEFAULT_PHONE_REGION = "RU"
_NON_DIGITS = re.compile(r"\D+")
_PHONE_LIKE = re.compile(r"^[\d\s()+\-.]+$")


def normalize_email(value: str) -> str:
    """Stripped and lower-cased; refused when it is not an e-mail address."""
    email = value.strip().lower()
    if email:
        validate_email(email)
    return email


def normalize_phone(value: str) -> str:
    """The number in E.164 (+79127591059); refused when it cannot be a phone number."""
    typed = value.strip()
    if not typed:
        return ""
    try:
        number = phonenumbers.parse(typed, DEFAULT_PHONE_REGION)
    except phonenumbers.NumberParseException as error:
        raise ValidationError(_("This does not look like a phone number.")) from error
    if not phonenumbers.is_possible_number(number):
        raise ValidationError(
            _("This does not look like a phone number: check the code and the number of digits.")
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def phone_search_forms(e164: str) -> list[str]:
    """The digit strings a manager may type for this number: for a Russian one 79127591059,
    89127591059, 9127591059 and the local 7591059."""
    digits = _NON_DIGITS.sub("", e164)
    if not digits:
        return []
    forms = [digits]
    if digits.startswith("7") and len(digits) == 11:
        forms += ["8" + digits[1:], digits[1:], digits[-7:]]
    return forms


def looks_like_phone(query: str) -> bool:
    return bool(_PHONE_LIKE.match(query)) and len(_NON_DIGITS.sub("", query)) >= 5


def digits_only(value: str) -> str:
    return _NON_DIGITS.sub("", value)


def looks_like_inn(value: str) -> bool:
    return value.isdigit() and len(value) in (10, 12)


def inn_is_valid(value: str) -> bool:
    return bool(russian_inn.is_valid(value))


def search_normalize(value: str) -> str:
    """Case-folded, with ё as е, and white space collapsed: the form both the stored search
    text and the typed query take, so that comparing them needs no database collation."""
    return " ".join(value.casefold().replace("ё", "е").split())


_LEGAL_FORMS = re.compile(
    r"\b(ооо|оао|зао|пао|ао|нао|ип|чп|гуп|муп|фгуп|нко|ано|llc|ltd|inc|gmbh|jsc|ojsc)\b"
)
_NOT_WORD = re.compile(r"[\W_]+")


def company_key(name: str) -> str:
    """The company name without legal form, quotes and punctuation: «ООО "Ромашка"» and
    "Ромашка, ООО" give the same key, so near-identical names are found as duplicates."""
    text = search_normalize(name)
    text = _NOT_WORD.sub(" ", text)
    text = _LEGAL_FORMS.sub(" ", text)
    return " ".join(text.split())


def row_id(value: str) -> int | None:
    """A row id typed or linked (ASCII digits within a 64-bit key), or None: «²» and
    twenty nines are words to search, not ids to look up."""
    value = value.strip()
    if not (value.isascii() and value.isdigit()):
        return None
    number = int(value)
    return number if 0 < number < 2**63 else None
