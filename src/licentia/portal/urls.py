from django.urls import path

from licentia.portal import views

app_name = "portal"

urlpatterns = [
    path("", views.sign_in, name="sign_in"),
    path("link/<str:token>/", views.link, name="link"),
    path("sign-out/", views.sign_out, name="sign_out"),
    path("language/", views.set_language, name="language"),
    path("stats/", views.stats, name="stats"),
    path("keys/", views.keys, name="keys"),
    path("summary/", views.summary, name="summary"),
    path("problems/", views.problems, name="problems"),
    path("monitor/", views.monitor, name="monitor"),
    path("monitor/<uuid:session_id>/reset/", views.reset, name="reset"),
    path("coupon/", views.coupon, name="coupon"),
    path("distributions/", views.distributions, name="distributions"),
    path("settings/", views.settings_page, name="settings"),
    path("settings/addresses/", views.address_add, name="address_add"),
    path(
        "settings/addresses/<int:address_id>/remove/",
        views.address_remove,
        name="address_remove",
    ),
    path("settings/sessions/<int:session_id>/end/", views.session_end, name="session_end"),
    path("settings/sign-out-everywhere/", views.sign_out_everywhere, name="sign_out_everywhere"),
]
