"""What the user actions log shows for its stored codes: the action, the object type and the
system actors in the reader's language. The codes stay as stored; only their display is worded."""

from django.apps import apps
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

ACTIONS = {
    "client.create": _("Client created"),
    "client.update": _("Client changed"),
    "client.delete": _("Client deleted"),
    "client.merge": _("Clients merged"),
    "clientfielddefinition.delete": _("Additional field deleted"),
    "distributor.delete": _("Distributor deleted"),
    "feature.delete": _("Feature deleted"),
    "license_key.create": _("License key created"),
    "license_key.delete": _("License key deleted"),
    "license_key.block": _("License key blocked"),
    "license_key.unblock": _("License key unblocked"),
    "license_key.rebind": _("License key moved to another client"),
    "key_line.add": _("Product added to the key"),
    "key_line.change": _("Product in the key changed"),
    "key_line.end": _("Product in the key ended"),
    "coupon.activate": _("Coupon activated"),
    "coupon.deactivate": _("Coupon deactivated"),
    "coupon.block": _("Coupon blocked"),
    "coupon_batch.generate": _("Coupons generated"),
    "session.reset": _("Session reset"),
    "trial.register": _("Trial registered"),
    "notification.test": _("Test mail sent"),
    "notification.resend": _("Mail sent again"),
    "mail_template.update": _("Mail template changed"),
    "mail_settings.update": _("Mail settings changed"),
    "vendor_settings.create": _("Vendor settings created"),
    "vendor_settings.update": _("Vendor settings changed"),
    "user.create": _("User created"),
    "user.set_password": _("Password set"),
    "login.unlock": _("Sign-in unlocked"),
    "login.locked_out": _("Sign-in locked"),
}

# The verb of an action no table entry words, by the code's last part.
VERBS = {
    "create": pgettext_lazy("audit action", "Created"),
    "update": pgettext_lazy("audit action", "Changed"),
    "change": pgettext_lazy("audit action", "Changed"),
    "delete": pgettext_lazy("audit action", "Deleted"),
    "block": pgettext_lazy("audit action", "Blocked"),
    "unblock": pgettext_lazy("audit action", "Unblocked"),
    "activate": pgettext_lazy("audit action", "Activated"),
    "deactivate": pgettext_lazy("audit action", "Deactivated"),
    "reset": pgettext_lazy("audit action", "Reset"),
    "generate": pgettext_lazy("audit action", "Generated"),
    "import": pgettext_lazy("audit action", "Imported"),
}

SYSTEM_ACTORS = {
    "system": _("system"),
    "command line": _("command line"),
    "licentia init": _("server set-up"),
    "demo": _("demo data"),
    "sign-in lockout": _("sign-in lockout"),
    "application": _("application"),
}


def object_type_label(object_type: str) -> str:
    """`keys.licensekey` as the model's name, «Лицензионный ключ»."""
    if not object_type:
        return ""
    try:
        model = apps.get_model(object_type)
    except (LookupError, ValueError):
        return object_type
    return str(capfirst(model._meta.verbose_name))


def action_label(action: str, object_type: str = "") -> str:
    if action in ACTIONS:
        return str(ACTIONS[action])
    verb = VERBS.get(action.rpartition(".")[2])
    if verb is None:
        return action
    subject = object_type_label(object_type)
    return f"{verb}: {subject.lower()}" if subject else str(verb)


def actor_label(label: str, kind: str) -> str:
    if kind in ("system", "application") and label in SYSTEM_ACTORS:
        return str(SYSTEM_ACTORS[label])
    return label
