from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CabinetConfig(AppConfig):
    name = "licentia.cabinet"
    label = "cabinet"
    verbose_name = _("Vendor cabinet")

    def ready(self) -> None:
        from django.apps import apps
        from django.contrib import admin

        # django-axes names its app in English only; its page is the sign-in lockouts.
        apps.get_app_config("axes").verbose_name = _("Sign-in lockouts")

        # The dashboard's heading, instead of Django's «Site administration».
        admin.site.index_title = _("Dashboard")
        admin.site.empty_value_display = "—"
        _empty_choice_as_a_dash()


def _empty_choice_as_a_dash() -> None:
    """The empty choice of every select reads «—», not Django's «---------»: the models' blank
    choice and the default empty label of a choice of rows."""
    from django.db.models import fields
    from django.forms import models as form_models

    fields.BLANK_CHOICE_DASH[:] = [("", "—")]
    defaults = form_models.ModelChoiceField.__init__.__kwdefaults__
    if defaults is not None:
        defaults["empty_label"] = "—"
