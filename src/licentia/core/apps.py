from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "licentia.core"
    label = "core"
    verbose_name = _("Settings")

    def ready(self) -> None:
        from axes.signals import user_locked_out
        from django.conf import settings

        from licentia.core.lockout import on_locked_out
        from licentia.core.roles import sync_role_permissions
        from licentia.core.services import vendor_settings_ensure
        from licentia.core.sqlite import install_unicode_like, keep_private

        user_locked_out.connect(on_locked_out, dispatch_uid="licentia.audit_locked_out")
        install_unicode_like()
        keep_private(settings.DATABASES["default"])
        # Connected here, after django.contrib.auth has connected create_permissions, so the
        # permissions of every app exist by the time the roles are given theirs.
        post_migrate.connect(sync_role_permissions, dispatch_uid="licentia.sync_role_permissions")
        post_migrate.connect(
            lambda **kwargs: vendor_settings_ensure() if kwargs["sender"] is self else None,
            weak=False,
            dispatch_uid="licentia.vendor_settings_ensure",
        )
