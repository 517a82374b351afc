from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class NotificationsConfig(AppConfig):
    name = "licentia.notifications"
    label = "notifications"
    verbose_name = _("Mail")

    def ready(self) -> None:
        from licentia.notifications import receivers  # noqa: F401 - connects the receivers
        from licentia.notifications.services import mail_templates_ensure

        def ensure_templates(sender: AppConfig, **kwargs: Any) -> None:
            if sender is self:
                mail_templates_ensure()

        post_migrate.connect(
            ensure_templates, weak=False, dispatch_uid="licentia.mail_templates_ensure"
        )
