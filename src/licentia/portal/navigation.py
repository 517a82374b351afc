"""The client cabinet's tabs, in the order they show. An app that brings a tab of its own
(as releases brings the distributions) adds it here, with its page in this app's urls."""

from dataclasses import dataclass

from django.urls import reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class Tab:
    name: str
    title: Promise
    url_name: str

    @property
    def url(self) -> str:
        return reverse(self.url_name)


TABS = (
    Tab("stats", _("Statistics"), "portal:stats"),
    Tab("keys", _("License keys"), "portal:keys"),
    Tab("summary", _("License summary"), "portal:summary"),
    Tab("problems", _("Problems"), "portal:problems"),
    Tab("monitor", _("Session monitor"), "portal:monitor"),
    Tab("coupon", _("Activate a coupon"), "portal:coupon"),
    Tab("distributions", _("Software distributions"), "portal:distributions"),
    Tab("settings", _("Settings"), "portal:settings"),
)


def tabs() -> tuple[Tab, ...]:
    return TABS
