from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class KeysConfig(AppConfig):
    name = "licentia.keys"
    label = "keys"
    verbose_name = _("License keys")

    def ready(self) -> None:
        from licentia.keys import receivers  # noqa: F401 - connects the receivers
