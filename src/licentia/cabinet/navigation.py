"""The cabinet's sidebar, in the order managers know from the MIKO cabinet."""

from typing import Any

from django.http import HttpRequest
from django.urls import reverse, reverse_lazy
from django.utils.translation import gettext_lazy as _


def _can_view(app_label: str, model: str) -> Any:
    def check(request: HttpRequest) -> bool:
        return request.user.has_perm(f"{app_label}.view_{model}")

    return check


def _has(permission: str) -> Any:
    def check(request: HttpRequest) -> bool:
        return request.user.has_perm(permission)

    return check


def sidebar_navigation(request: HttpRequest) -> list[dict[str, Any]]:
    return [
        {
            "title": _("Directories"),
            "separator": False,
            "items": [
                {
                    "title": _("Clients"),
                    "icon": "groups",
                    "link": reverse_lazy("admin:clients_client_changelist"),
                    "permission": _can_view("clients", "client"),
                },
                {
                    "title": _("License keys"),
                    "icon": "key",
                    "link": reverse_lazy("admin:keys_licensekey_changelist"),
                    "permission": _can_view("keys", "licensekey"),
                },
                {
                    "title": _("Distributors"),
                    "icon": "handshake",
                    "link": reverse_lazy("admin:clients_distributor_changelist"),
                    "permission": _can_view("clients", "distributor"),
                },
                {
                    "title": _("Features"),
                    "icon": "extension",
                    "link": reverse_lazy("admin:catalog_feature_changelist"),
                    "permission": _can_view("catalog", "feature"),
                },
                {
                    "title": _("Products"),
                    "icon": "inventory_2",
                    "link": reverse_lazy("admin:catalog_product_changelist"),
                    "permission": _can_view("catalog", "product"),
                },
            ],
        },
        {
            "title": _("Coupons"),
            "separator": True,
            "items": [
                {
                    "title": _("Coupons"),
                    "icon": "confirmation_number",
                    "link": reverse_lazy("admin:coupons_coupon_changelist"),
                    "permission": _can_view("coupons", "coupon"),
                },
                {
                    "title": _("Coupon generator"),
                    "icon": "add_card",
                    "link": reverse_lazy("admin:coupons_coupon_generate"),
                    "permission": _has("coupons.add_couponbatch"),
                },
                {
                    "title": _("Activate a coupon"),
                    "icon": "redeem",
                    "link": reverse_lazy("admin:coupons_coupon_activate"),
                    "permission": _has("coupons.add_activation"),
                },
            ],
        },
        {
            "title": _("Releases"),
            "separator": True,
            "items": [
                {
                    "title": _("Distributions"),
                    "icon": "deployed_code",
                    "link": reverse_lazy("admin:releases_distribution_changelist"),
                    "permission": _can_view("releases", "distribution"),
                },
                {
                    "title": _("Releases"),
                    "icon": "new_releases",
                    "link": reverse_lazy("admin:releases_release_changelist"),
                    "permission": _can_view("releases", "release"),
                },
                {
                    "title": _("Release mail"),
                    "icon": "mark_email_unread",
                    "link": reverse_lazy("admin:releases_releasemail_changelist"),
                    "permission": _can_view("releases", "releasemail"),
                },
            ],
        },
        {
            "title": _("Monitoring"),
            "separator": True,
            "items": [
                {
                    "title": _("Session monitor"),
                    "icon": "monitor_heart",
                    "link": reverse_lazy("admin:licensing_session_changelist"),
                    "permission": _can_view("licensing", "session"),
                },
                {
                    "title": _("Problems"),
                    "icon": "report",
                    "link": reverse_lazy("admin:licensing_problem_changelist"),
                    "permission": _can_view("licensing", "problem"),
                },
                {
                    "title": _("Token consumption"),
                    "icon": "toll",
                    "link": reverse_lazy("admin:licensing_tokenconsumption_changelist"),
                    "permission": _can_view("licensing", "tokenconsumption"),
                },
            ],
        },
        {
            "title": _("Reports"),
            "separator": True,
            "items": [
                {
                    "title": _("Expiring subscriptions"),
                    "icon": "event_busy",
                    "link": reverse_lazy("cabinet-report-expiring"),
                    "permission": _has("keys.view_keyline"),
                },
                {
                    "title": _("New trials"),
                    "icon": "person_add",
                    "link": reverse_lazy("cabinet-report-trials"),
                    "permission": _has("keys.view_keyline"),
                },
            ],
        },
        {
            "title": _("Statistics"),
            "separator": True,
            "items": [
                {
                    "title": _("New trials"),
                    "icon": "trending_up",
                    "link": reverse_lazy("admin:statistics_trials"),
                    "permission": _has("statistics.view_statistics"),
                },
                {
                    "title": _("Features"),
                    "icon": "extension",
                    "link": reverse_lazy("admin:statistics_features"),
                    "permission": _has("statistics.view_statistics"),
                },
                {
                    "title": _("Conversions"),
                    "icon": "conversion_path",
                    "link": reverse_lazy("admin:statistics_conversions"),
                    "permission": _has("statistics.view_statistics"),
                },
                {
                    "title": _("Products"),
                    "icon": "inventory_2",
                    "link": reverse_lazy("admin:statistics_products"),
                    "permission": _has("statistics.view_statistics"),
                },
                {
                    "title": _("Distributors"),
                    "icon": "handshake",
                    "link": reverse_lazy("admin:statistics_distributors"),
                    "permission": _has("statistics.view_statistics"),
                },
                {
                    "title": _("Connections"),
                    "icon": "lan",
                    "link": reverse_lazy("admin:statistics_connections"),
                    "permission": _has("statistics.view_statistics"),
                },
                {
                    "title": _("Refusals"),
                    "icon": "block",
                    "link": reverse_lazy("admin:statistics_refusals"),
                    "permission": _has("statistics.view_statistics"),
                },
                {
                    "title": _("Metrics analysis"),
                    "icon": "pivot_table_chart",
                    "link": reverse_lazy("admin:statistics_pivot"),
                    "permission": _has("statistics.view_statistics"),
                },
            ],
        },
        {
            "title": _("Settings"),
            "separator": True,
            "items": [
                {
                    "title": _("Vendor settings"),
                    "icon": "tune",
                    "link": reverse_lazy("admin:core_vendorsettings_changelist"),
                    "permission": _can_view("core", "vendorsettings"),
                },
                {
                    "title": _("Release settings"),
                    "icon": "cloud_sync",
                    "link": reverse_lazy("admin:releases_releasesettings_changelist"),
                    "permission": _can_view("releases", "releasesettings"),
                },
                {
                    "title": _("Additional client fields"),
                    "icon": "list_alt",
                    "link": reverse_lazy("admin:clients_clientfielddefinition_changelist"),
                    "permission": _can_view("clients", "clientfielddefinition"),
                },
                {
                    "title": _("Mail"),
                    "icon": "mail",
                    "link": reverse_lazy("admin:notifications_mailsettings_changelist"),
                    "permission": _can_view("notifications", "mailsettings"),
                },
                {
                    "title": _("E-mail templates"),
                    "icon": "drafts",
                    "link": reverse_lazy("admin:notifications_mailtemplate_changelist"),
                    "permission": _can_view("notifications", "mailtemplate"),
                },
                {
                    "title": _("Outgoing mail"),
                    "icon": "outbox",
                    "link": reverse_lazy("admin:notifications_notification_changelist"),
                    "permission": _can_view("notifications", "notification"),
                },
                {
                    "title": _("API keys"),
                    "icon": "vpn_key",
                    "link": reverse_lazy("admin:api_apikey_changelist"),
                    "permission": _can_view("api", "apikey"),
                },
                {
                    "title": _("Webhooks"),
                    "icon": "webhook",
                    "link": reverse_lazy("admin:webhooks_webhook_changelist"),
                    "permission": _can_view("webhooks", "webhook"),
                },
                {
                    "title": _("Webhook deliveries"),
                    "icon": "send",
                    "link": reverse_lazy("admin:webhooks_webhookdelivery_changelist"),
                    "permission": _can_view("webhooks", "webhookdelivery"),
                },
                {
                    "title": _("Metrics"),
                    "icon": "query_stats",
                    "link": reverse_lazy("admin:statistics_metricsettings_changelist"),
                    "permission": _can_view("statistics", "metricsettings"),
                },
                {
                    "title": _("Users"),
                    "icon": "manage_accounts",
                    "link": reverse_lazy("admin:core_user_changelist"),
                    "permission": _can_view("core", "user"),
                },
                {
                    "title": _("Roles"),
                    "icon": "badge",
                    "link": reverse_lazy("admin:auth_group_changelist"),
                    "permission": _can_view("auth", "group"),
                },
                {
                    "title": _("User actions log"),
                    "icon": "history",
                    "link": reverse_lazy("admin:core_auditevent_changelist"),
                    "permission": _can_view("core", "auditevent"),
                },
                {
                    "title": _("Import"),
                    "icon": "upload_file",
                    "link": reverse_lazy("admin:transfer_importbatch_changelist"),
                    "permission": _can_view("transfer", "importbatch"),
                },
                {
                    "title": _("Backups"),
                    "icon": "backup",
                    "link": reverse_lazy("admin:core_backuprun_changelist"),
                    "permission": _can_view("core", "backuprun"),
                },
                {
                    "title": _("Sign-in lockouts"),
                    "icon": "lock_person",
                    "link": reverse_lazy("admin:axes_accessattempt_changelist"),
                    "permission": _can_view("axes", "accessattempt"),
                },
            ],
        },
    ]


def language_action(request: HttpRequest) -> str:
    return reverse("cabinet-set-language")
