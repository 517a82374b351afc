from django.contrib import admin
from django.urls import path

from licentia.cabinet.views import cabinet_set_language
from licentia.core.views import healthz

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("i18n/setlang/", cabinet_set_language, name="cabinet-set-language"),
    path("", admin.site.urls),
]
