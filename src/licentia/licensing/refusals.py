"""Coded refusals the application sees (DOMAIN.md §4): each code with its HTTP status, its
message and whether a refused capture with it is kept as a Problem."""

from collections.abc import Iterable
from enum import IntEnum
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


class Code(IntEnum):
    status: int
    message: Promise
    is_problem: bool

    def __new__(cls, code: int, status: int, message: Promise, is_problem: bool) -> "Code":
        member = int.__new__(cls, code)
        member._value_ = code
        member.status = status
        member.message = message
        member.is_problem = is_problem
        return member

    NO_FREE_SEAT = 2008, 409, _("No free license for this feature: all seats are taken."), True
    UNKNOWN_KEY = 2009, 404, _("Unknown license key."), True
    LICENSE_EXPIRED = 2011, 403, _("The license for this feature has expired."), True
    EMAIL_OF_ANOTHER_COMPANY = (
        2022,
        409,
        _("This e-mail already has a key for another company."),
        False,
    )
    MALFORMED_KEY = (
        2026,
        422,
        _("The license key is malformed: check the characters you typed."),
        True,
    )
    KEY_NOT_OF_COUPON = (
        2037,
        409,
        _("The key does not match the coupon: it was issued for another key."),
        False,
    )
    UNKNOWN_COUPON = 2040, 404, _("Unknown coupon."), False
    COUPON_USED = (
        2041,
        409,
        _("The coupon is already activated."),
        False,
    )
    MACHINE_OF_ANOTHER_EMAIL = (
        2051,
        409,
        _("This machine was already registered with another e-mail."),
        False,
    )
    COUPON_BLOCKED = 2057, 403, _("The coupon is blocked."), False
    KEY_BLOCKED = 2060, 403, _("The license key is blocked."), True
    FEATURE_NOT_IN_KEY = 2061, 403, _("The key holds no product with this feature."), True
    UNKNOWN_SESSION = (
        2062,
        404,
        _("Unknown or ended session: capture the license again."),
        False,
    )
    NOT_ENOUGH_TOKENS = 2063, 409, _("Not enough tokens."), False
    INVALID_REQUEST = 4220, 422, _("The request is invalid."), False
    RATE_LIMITED = 4290, 429, _("Too many requests: try again later."), False
    NOT_FOUND = 4040, 404, _("No such call in the protocol."), False
    METHOD_NOT_ALLOWED = 4050, 405, _("This call does not take this HTTP method."), False
    BODY_TOO_LARGE = 4130, 413, _("The request body is too large."), False
    SERVER_ERROR = 5000, 500, _("The server failed to answer: try again later."), False
    DATABASE_UNAVAILABLE = (
        5030,
        503,
        _("The server cannot reach its database now: try again later, work offline meanwhile."),
        False,
    )


class Refusal(Exception):
    def __init__(self, code: Code, message: str | Promise | None = None, **extra: Any) -> None:
        self.code = code
        self.message = message or code.message
        self.extra = extra
        super().__init__(f"{int(code)}: {self.message}")

    @property
    def status(self) -> int:
        return self.code.status

    def body(self) -> dict[str, Any]:
        return {"code": int(self.code), "message": str(self.message), **self.extra}


def invalid(errors: dict[str, list[str]]) -> Refusal:
    return Refusal(Code.INVALID_REQUEST, errors=errors)


_REQUIRED = _("This field is required.")


def missing(names: Iterable[str]) -> Refusal:
    """4220 naming the required fields the request left empty."""
    return invalid({name: [str(_REQUIRED)] for name in sorted(names)})


def refusal_message(code: int) -> str:
    """The message of a stored code, or empty for a code no longer known."""
    member = next((member for member in Code if member == code), None)
    return str(member.message) if member is not None else ""
