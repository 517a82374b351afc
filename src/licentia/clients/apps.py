from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ClientsConfig(AppConfig):
    name = "licentia.clients"
    label = "clients"
    verbose_name = _("Clients")

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from licentia.clients.sqlite_fts import ensure_sqlite_fts

        post_migrate.connect(ensure_sqlite_fts, dispatch_uid="licentia.clients.sqlite_fts")
