"""Coded refusals the application sees (DOMAIN.md §4), with their HTTP statuses."""

from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


class Code:
    NO_FREE_SEAT = 2008
    UNKNOWN_KEY = 2009
    LICENSE_EXPIRED = 2011
    EMAIL_OF_ANOTHER_COMPANY = 2022
    MALFORMED_KEY = 2026
    MACHINE_OF_ANOTHER_EMAIL = 2051
    KEY_BLOCKED = 2060
    FEATURE_NOT_IN_KEY = 2061
    UNKNOWN_SESSION = 2062
    NOT_ENOUGH_TOKENS = 2063
    INVALID_REQUEST = 4220
    RATE_LIMITED = 4290
    NOT_FOUND = 4040
    METHOD_NOT_ALLOWED = 4050
    BODY_TOO_LARGE = 4130
    SERVER_ERROR = 5000
    DATABASE_UNAVAILABLE = 5030


STATUS = {
    Code.NO_FREE_SEAT: 409,
    Code.UNKNOWN_KEY: 404,
    Code.LICENSE_EXPIRED: 403,
    Code.EMAIL_OF_ANOTHER_COMPANY: 409,
    Code.MALFORMED_KEY: 422,
    Code.MACHINE_OF_ANOTHER_EMAIL: 409,
    Code.KEY_BLOCKED: 403,
    Code.FEATURE_NOT_IN_KEY: 403,
    Code.UNKNOWN_SESSION: 404,
    Code.NOT_ENOUGH_TOKENS: 409,
    Code.INVALID_REQUEST: 422,
    Code.RATE_LIMITED: 429,
    Code.NOT_FOUND: 404,
    Code.METHOD_NOT_ALLOWED: 405,
    Code.BODY_TOO_LARGE: 413,
    Code.SERVER_ERROR: 500,
    Code.DATABASE_UNAVAILABLE: 503,
}

MESSAGES = {
    Code.NO_FREE_SEAT: _("No free license for this feature: all seats are taken."),
    Code.UNKNOWN_KEY: _("Unknown license key."),
    Code.LICENSE_EXPIRED: _("The license for this feature has expired."),
    Code.EMAIL_OF_ANOTHER_COMPANY: _("This e-mail already has a key for another company."),
    Code.MALFORMED_KEY: _("The license key is malformed: check the characters you typed."),
    Code.MACHINE_OF_ANOTHER_EMAIL: _("This machine was already registered with another e-mail."),
    Code.KEY_BLOCKED: _("The license key is blocked."),
    Code.FEATURE_NOT_IN_KEY: _("The key holds no product with this feature."),
    Code.UNKNOWN_SESSION: _("Unknown or ended session: capture the license again."),
    Code.NOT_ENOUGH_TOKENS: _("Not enough tokens."),
    Code.INVALID_REQUEST: _("The request is invalid."),
    Code.RATE_LIMITED: _("Too many requests: try again later."),
    Code.NOT_FOUND: _("No such call in the protocol."),
    Code.METHOD_NOT_ALLOWED: _("This call does not take this HTTP method."),
    Code.BODY_TOO_LARGE: _("The request body is too large."),
    Code.SERVER_ERROR: _("The server failed to answer: try again later."),
    Code.DATABASE_UNAVAILABLE: _(
        "The server cannot reach its database now: try again later, work offline meanwhile."
    ),
}

# Refused captures the vendor sees as Problems.
PROBLEM_CODES = frozenset(
    {
        Code.NO_FREE_SEAT,
        Code.UNKNOWN_KEY,
        Code.LICENSE_EXPIRED,
        Code.MALFORMED_KEY,
        Code.KEY_BLOCKED,
        Code.FEATURE_NOT_IN_KEY,
    }
)


class Refusal(Exception):
    def __init__(self, code: int, message: str | Promise | None = None, **extra: Any) -> None:
        self.code = code
        self.message = message or MESSAGES[code]
        self.extra = extra
        super().__init__(f"{code}: {self.message}")

    @property
    def status(self) -> int:
        return STATUS[self.code]

    def body(self) -> dict[str, Any]:
        return {"code": self.code, "message": str(self.message), **self.extra}


def invalid(errors: dict[str, list[str]]) -> Refusal:
    return Refusal(Code.INVALID_REQUEST, errors=errors)
