"""The four cabinet roles, kept as groups whose permissions are exactly the ones below."""

from typing import Any

from django.apps import AppConfig
from django.contrib.auth.models import Group, Permission

FULL_ACCESS = "Полный доступ"
READ_ONLY = "Только просмотр"
SUPPORT = "Техподдержка"
SALES = "Продажи и клиенты"
ROLE_NAMES = (FULL_ACCESS, READ_ONLY, SUPPORT, SALES)

# The apps whose models the roles speak of; `*` below means "every model of these apps".
ROLE_APP_LABELS = frozenset(
    {
        *("core", "auth", "clients", "catalog", "keys", "coupons", "licensing", "notifications"),
        *("releases", "statistics", "transfer"),
        *("api", "webhooks", "axes"),  # axes: sign-in lockouts, lifted by deleting them
    }
)
ALL = frozenset({"view", "add", "change", "delete"})
VIEW = frozenset({"view"})

# Rules are matched most specific first: "app.model", then "app.*", then "*".
ROLE_RULES: dict[str, dict[str, frozenset[str]]] = {
    FULL_ACCESS: {"*": ALL},
    READ_ONLY: {"*": VIEW},
    SUPPORT: {
        "clients.*": VIEW,
        "keys.*": VIEW,
        "catalog.*": VIEW,
        "licensing.*": ALL,
        # Support answers "the mail did not come": reads the outbox and sends a mail again.
        "notifications.*": VIEW,
        "notifications.notification": frozenset({"view", "change"}),
        # Support activates coupons for callers and sees them; generating and undoing is sales'.
        "coupons.*": VIEW,
        "coupons.activation": frozenset({"view", "add"}),
        "releases.*": VIEW,
    },
    SALES: {
        "clients.*": ALL,
        # The card's additional fields are vendor settings, defined under Настройки.
        "clients.clientfielddefinition": VIEW,
        "keys.*": ALL,
        "coupons.*": ALL,
        "catalog.*": VIEW,
        "licensing.*": VIEW,
        # Sales see what their clients were sent and may send it again; SMTP and templates
        # stay with full access.
        "notifications.*": VIEW,
        "notifications.notification": frozenset({"view", "change"}),
        "releases.*": VIEW,
        # Sales read the statistics (trials, conversions, distributors); the metric settings
        # stay with full access.
        "statistics.*": VIEW,
    },
}


def allowed_actions(role: str, app_label: str, model: str) -> frozenset[str]:
    rules = ROLE_RULES[role]
    for pattern in (f"{app_label}.{model}", f"{app_label}.*", "*"):
        if pattern in rules:
            return rules[pattern]
    return frozenset()


def role_permissions(role: str) -> list[Permission]:
    candidates = Permission.objects.select_related("content_type").filter(
        content_type__app_label__in=ROLE_APP_LABELS
    )
    chosen = []
    for permission in candidates:
        action, _sep, _model = permission.codename.partition("_")
        content_type = permission.content_type
        if content_type.app_label == "auth" and content_type.model == "permission":
            continue
        if action in allowed_actions(role, content_type.app_label, content_type.model):
            chosen.append(permission)
    return chosen


def sync_role_permissions(sender: AppConfig, using: str = "default", **kwargs: Any) -> None:
    # Runs after every app's migrations, since each app's permissions appear only then.
    for role in ROLE_NAMES:
        group, _created = Group.objects.using(using).get_or_create(name=role)
        group.permissions.set(role_permissions(role))
