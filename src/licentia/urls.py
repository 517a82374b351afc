from django.contrib import admin
from django.templatetags.static import static
from django.urls import include, path, re_path
from django.views.generic import RedirectView

from licentia.api.app_v1 import api as app_api
from licentia.api.http import api_not_found, vendor_api_not_found
from licentia.api.vendor_v1 import vendor_api
from licentia.cabinet.reports import expiring_subscriptions_view, new_trials_view
from licentia.cabinet.views import cabinet_set_language
from licentia.core.views import healthz

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    # Browsers ask for it on every first page, signed in or not.
    path("favicon.ico", RedirectView.as_view(url=static("cabinet/favicon.svg"), permanent=True)),
    path("api/app/v1/", app_api.urls),
    re_path(r"^api/app(?:/|$)", api_not_found),
    path("my/", include("licentia.portal.urls")),
    path("api/v1/", vendor_api.urls),
    re_path(r"^api/v1(?:/|$)", vendor_api_not_found),
    path("", include("licentia.releases.urls")),
    path("i18n/setlang/", cabinet_set_language, name="cabinet-set-language"),
    path(
        "reports/expiring-subscriptions/",
        admin.site.admin_view(expiring_subscriptions_view),
        name="cabinet-report-expiring",
    ),
    path(
        "reports/new-trials/", admin.site.admin_view(new_trials_view), name="cabinet-report-trials"
    ),
    path("", admin.site.urls),
]

handler500 = "licentia.core.views.server_error"
