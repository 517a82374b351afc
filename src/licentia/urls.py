from django.contrib import admin
from django.urls import path

from licentia.api.app_v1 import api as app_api
from licentia.cabinet.views import cabinet_set_language
from licentia.core.views import healthz

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("api/app/v1/", app_api.urls),
    path("i18n/setlang/", cabinet_set_language, name="cabinet-set-language"),
    path("", admin.site.urls),
]
