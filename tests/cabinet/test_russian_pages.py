"""Every page of the cabinet reads in Russian: no English message escaped the catalog."""

import contextlib
import re
from html.parser import HTMLParser

import pytest
from django.contrib import admin
from django.urls import NoReverseMatch, reverse

from licentia.catalog.models import LicenseType
from licentia.core.audit import Actor
from licentia.keys.services import key_line_add, license_key_generate
from tests.factories import DistributorFactory, make_client, make_product

# Latin words a Russian page may show: names of things, formats and protocols, not messages.
ALLOWED_LATIN = {
    "licentia",
    "email",
    "e-mail",
    "crm",
    "id",
    "id1",
    "id2",
    "api",
    "ip",
    "guid",
    "smtp",
    "url",
    "inn",
    "ed25519",
    "english",
    "pro",
    "demo",
    "html",
    "csv",
    "xlsx",
    "json",
    "ssl",
    "tls",
    "utc",
    "http",
    "https",
    "www",
    "manager",
    "example",
    "com",
    "host",
    "user",
    # keys of the keyboard, an HTTP header, an address and a setting quoted in help texts
    "esc",
    "control",
    "command",
    "mac",
    "retry-after",
    "licensing",
    "vendor",
    "default",
    "from",
    # formats, protocols and names of fields and settings quoted in help texts
    "utf",
    "windows",
    "type",
    "sha",
    "cdn",
    "hmac-sha",
    # the backup directory's setting, LICENTIA_BACKUP_DIR, and the path it names
    "backup",
    "dir",
    "backups",
    # what the tests' own data is named
    "tests",
}
# Lists whose rows are the English texts themselves.
ENGLISH_BY_DESIGN = {"/notifications/mailtemplate/"}
# What managers typed or the server made, not messages: e-mail addresses, key codes, GUIDs,
# and the placeholders of mail templates with their explanation, «name (название)».
USER_DATA = re.compile(
    r"\S+@\S+|\b[A-Z0-9]{4,7}(-[A-Z0-9]{5}){4}\b|\b[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}\b"
    r"|\{[{%].*?[%}]\}|\b[a-z_]+(?= \([а-яё])|(?<!\w)/[\w./-]+",
    re.S,
)
WORD = re.compile(r"[A-Za-z][A-Za-z-]{2,}")
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"}


class VisibleText(HTMLParser):
    """The text a reader sees, and the titles and placeholders they read: no scripts, no icon
    ligatures (`<span class="material-symbols-outlined">key</span>`), no user data in `<pre>`."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.hidden: list[str] = []
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in VOID:
            self.parts.extend(value or "" for name, value in attrs if name in READ_ATTRIBUTES)
            return
        classes = dict(attrs).get("class") or ""
        if (
            self.hidden
            or tag in ("script", "style", "template", "pre", "code", "option", "textarea")
            or ("material-symbols" in classes)
        ):
            self.hidden.append(tag)
        else:
            self.parts.extend(value or "" for name, value in attrs if name in READ_ATTRIBUTES)

    def handle_endtag(self, tag: str) -> None:
        if self.hidden and tag == self.hidden[-1]:
            self.hidden.pop()

    def handle_data(self, data: str) -> None:
        if not self.hidden:
            self.parts.append(data)


READ_ATTRIBUTES = {"title", "placeholder", "aria-label"}


def visible_text(html: str) -> str:
    parser = VisibleText()
    parser.feed(html)
    return " ".join(parser.parts)


def english_words(html: str) -> set[str]:
    text = USER_DATA.sub(" ", visible_text(html))
    words = (word.strip("-") for word in WORD.findall(text))
    return {word for word in words if word.lower() not in ALLOWED_LATIN}


def cabinet_urls() -> list[str]:
    """The dashboard, and of every model the cabinet shows its list, its add page and the card
    of its first row."""
    urls = ["/"]
    for model in admin.site._registry:
        meta = model._meta
        for view in ("changelist", "add"):
            with contextlib.suppress(NoReverseMatch):
                urls.append(reverse(f"admin:{meta.app_label}_{meta.model_name}_{view}"))
        first = model._default_manager.order_by("pk").first()
        if first is not None:
            urls.append(
                reverse(f"admin:{meta.app_label}_{meta.model_name}_change", args=[first.pk])
            )
    return urls


def some_of_everything() -> None:
    actor = Actor.system("tests")
    client = make_client(company="ООО «Ромашка»", email="anna@romashka.example")
    product = make_product(100, (10, LicenseType.USER, 5, True), name_en="")
    key = license_key_generate(client=client, actor=actor)
    key_line_add(key=key, product=product, actor=actor)
    DistributorFactory()


@pytest.mark.django_db
def test_the_pages_of_the_cabinet_show_no_english_message_in_russian(manager_client) -> None:
    some_of_everything()
    leaks = {}
    for url in cabinet_urls():
        response = manager_client.get(url, follow=True, headers={"accept-language": "ru"})
        if response.status_code != 200 or url in ENGLISH_BY_DESIGN:
            continue
        words = english_words(response.content.decode())
        if words:
            leaks[url] = sorted(words)
    assert leaks == {}, "\n".join(f"{url}: {words}" for url, words in leaks.items())
