"""Versions as dotted numbers: 4.0.10 comes after 4.0.9, and 4.0 equals 4.0.0."""

import re

from django.core.validators import RegexValidator
from django.utils.translation import gettext_lazy as _

VERSION_PATTERN = re.compile(r"^[0-9]{1,9}(\.[0-9]{1,9}){0,9}\Z")

version_validator = RegexValidator(
    VERSION_PATTERN, _("Dotted numbers, e.g. 4.0.10 (at most ten parts).")
)

VersionKey = tuple[int, ...]


def is_version(text: str) -> bool:
    return bool(VERSION_PATTERN.match(text))


def version_key(text: str) -> VersionKey:
    """The version's parts as numbers, trailing zeros dropped, so that tuples compare as the
    versions do. Raises ValueError for what is not dotted numbers."""
    if not is_version(text):
        raise ValueError(f"not a dotted version: {text!r}")
    parts = [int(part) for part in text.split(".")]
    while len(parts) > 1 and parts[-1] == 0:
        parts.pop()
    return tuple(parts)


def in_range(version: str, low: str, high: str) -> bool:
    """Whether the version lies in [low, high]; an empty bound is open."""
    key = version_key(version)
    return (not low or version_key(low) <= key) and (not high or key <= version_key(high))
