from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LicensingConfig(AppConfig):
    name = "licentia.licensing"
    label = "licensing"
    verbose_name = _("Licensing")

    def ready(self) -> None:
        from licentia.licensing import receivers  # noqa: F401 - connects the receivers
