"""How the cabinet words what the admin theme words generically.

`DJANGO_REWORDED` names Django's own messages that the cabinet's catalog translates anew (the
catalog comes before Django's); listing them here keeps them in the catalog when it is refreshed.
`COUNTS` gives a list's counter its plural forms («7 клиентов»), `ACCUSATIVE` the object of a
button («Удалить клиента»), both by model label; a model not listed reads «7 записей» and takes
its own name."""

from typing import Any

from django.db.models.options import Options
from django.utils.functional import Promise
from django.utils.text import capfirst
from django.utils.translation import gettext, gettext_noop, ngettext_lazy, pgettext_lazy

DJANGO_REWORDED = (
    gettext_noop("Site administration"),
    # «Добавить ещё одну строку», without the name: the line's name would need its accusative.
    # xgettext:no-python-format
    gettext_noop("Add another %(verbose_name)s"),
    gettext_noop("Authentication and Authorization"),
    gettext_noop("group"),
    gettext_noop("groups"),
    gettext_noop(
        "The groups this user belongs to. A user will get all permissions granted to "
        "each of their groups."
    ),
    gettext_noop("staff status"),
    gettext_noop("Designates whether the user can log into this admin site."),
    gettext_noop("superuser status"),
    gettext_noop(
        "Designates that this user has all permissions without explicitly assigning them."
    ),
)

COUNTS: dict[str, Any] = {
    "clients.client": ngettext_lazy("%(count)s client", "%(count)s clients", "count"),
    "clients.distributor": ngettext_lazy(
        "%(count)s distributor", "%(count)s distributors", "count"
    ),
    "clients.clientfielddefinition": ngettext_lazy("%(count)s field", "%(count)s fields", "count"),
    "keys.licensekey": ngettext_lazy("%(count)s key", "%(count)s keys", "count"),
    "keys.keyline": ngettext_lazy("%(count)s product", "%(count)s products", "count"),
    "catalog.feature": ngettext_lazy("%(count)s feature", "%(count)s features", "count"),
    "catalog.product": ngettext_lazy("%(count)s product", "%(count)s products", "count"),
    "catalog.productfeature": ngettext_lazy("%(count)s feature", "%(count)s features", "count"),
    "coupons.coupon": ngettext_lazy("%(count)s coupon", "%(count)s coupons", "count"),
    "licensing.session": ngettext_lazy("%(count)s session", "%(count)s sessions", "count"),
    "licensing.problem": ngettext_lazy("%(count)s problem", "%(count)s problems", "count"),
    "core.user": ngettext_lazy("%(count)s user", "%(count)s users", "count"),
    "core.auditevent": ngettext_lazy("%(count)s event", "%(count)s events", "count"),
    "auth.group": ngettext_lazy("%(count)s role", "%(count)s roles", "count"),
    "notifications.notification": ngettext_lazy("%(count)s mail", "%(count)s mails", "count"),
    "notifications.mailtemplate": ngettext_lazy(
        "%(count)s template", "%(count)s templates", "count"
    ),
}
ANY_COUNT = ngettext_lazy("%(count)s record", "%(count)s records", "count")

ACCUSATIVE: dict[str, Promise] = {
    "clients.client": pgettext_lazy("accusative", "client"),
    "clients.distributor": pgettext_lazy("accusative", "distributor"),
    "catalog.feature": pgettext_lazy("accusative", "feature"),
    "core.user": pgettext_lazy("accusative", "user"),
    "auth.group": pgettext_lazy("accusative", "role"),
}


def count_of(opts: Options, count: int) -> str:
    return str(COUNTS.get(opts.label_lower, ANY_COUNT) % {"count": count})


def accusative(opts: Options) -> str:
    return str(ACCUSATIVE.get(opts.label_lower, opts.verbose_name))


def tab_title(context: dict[str, Any]) -> str:
    """A model's pages are titled by what they show, not by Django's generic «Выберите клиент
    для изменения»: the list by the model's plural, a form by the record and its model."""
    opts = context.get("opts")
    title = str(context.get("title") or "")
    if not isinstance(opts, Options):
        subtitle = context.get("subtitle")
        return f"{subtitle} | {title}" if subtitle else title
    model = capfirst(opts.verbose_name)
    if context.get("cl") is not None:
        return str(capfirst(opts.verbose_name_plural))
    if "adminform" in context and context.get("add"):
        return gettext("%(model)s (new)") % {"model": model}
    record = context.get("original") or context.get("object")
    if "adminform" in context and record is not None:
        return f"{record} ({model})"
    if "deleted_objects" in context and record is not None:
        return gettext("%(record)s (deletion)") % {"record": record}
    subtitle = context.get("subtitle")
    return f"{subtitle} | {title}" if subtitle else title
