from collections.abc import Sequence
from typing import Any

from axes.models import AccessAttempt
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.auth.admin import GroupAdmin as BaseGroupAdmin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.db.models import Case, Model, QuerySet, When
from django.forms import ModelForm
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.defaultfilters import filesizeformat
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.utils.html import format_html
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from unfold.admin import ModelAdmin
from unfold.forms import AdminPasswordChangeForm, UserChangeForm, UserCreationForm

from licentia.core.admin_filters import MomentRangeFilter
from licentia.core.audit import Actor, audit_record, snapshot
from licentia.core.audit_labels import action_label, actor_label, object_type_label
from licentia.core.lockout import login_unlock
from licentia.core.models import AuditEvent, BackupRun, User, VendorSettings
from licentia.core.roles import ROLE_APP_LABELS
from licentia.core.selectors import vendor_settings_get
from licentia.core.services import VENDOR_SETTINGS_EDITABLE, vendor_settings_update
from licentia.core.signing import public_key_pem

FORM_PAGE = "cabinet/form_page.html"

admin.site.unregister(Group)


class AuditedModelAdmin(ModelAdmin):
    """Records every save and delete made through the cabinet in the audit log.

    The admin runs each change in a transaction, so the event is written in the same one. The
    event is written after the many-to-many fields are saved, so it shows them as they end up.
    """

    def audit_snapshot(self, obj: Model) -> dict[str, Any]:
        """What the log keeps of the object; admins with inlines add them."""
        return snapshot(obj)

    def save_model(self, request: HttpRequest, obj: Model, form: ModelForm, change: bool) -> None:
        if change:
            stored = type(obj)._default_manager.get(pk=obj.pk)
            form.audit_before = self.audit_snapshot(stored)  # type: ignore[attr-defined]
        super().save_model(request, obj, form, change)

    def save_related(
        self, request: HttpRequest, form: ModelForm, formsets: Any, change: bool
    ) -> None:
        super().save_related(request, form, formsets, change)
        audit_record(
            actor=Actor.from_request(request),
            action=f"{form.instance._meta.model_name}.{'update' if change else 'create'}",
            instance=form.instance,
            before=getattr(form, "audit_before", None),
            after=self.audit_snapshot(form.instance),
        )

    def delete_model(self, request: HttpRequest, obj: Model) -> None:
        audit_record(
            actor=Actor.from_request(request),
            action=f"{obj._meta.model_name}.delete",
            instance=obj,
            before=self.audit_snapshot(obj),
        )
        super().delete_model(request, obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet) -> None:
        for obj in queryset:
            self.delete_model(request, obj)


@admin.register(User)
class UserAdmin(AuditedModelAdmin, BaseUserAdmin):
    form = UserChangeForm
    add_form = UserCreationForm
    change_password_form = AdminPasswordChangeForm
    list_display = ("username", "full_name", "email", "roles", "is_active", "last_login")
    list_filter = ("is_active", "groups")
    search_fields = ("username", "first_name", "last_name", "email")
    fieldsets = (
        (None, {"fields": ("username", "password_link")}),
        (_("Personal info"), {"fields": ("first_name", "last_name", "email", "language")}),
        (_("Access"), {"fields": ("is_active", "is_staff", "is_superuser", "groups")}),
        (_("Important dates"), {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": ("username", "email", "language", "groups", "password1", "password2"),
            },
        ),
    )
    readonly_fields = ("password_link", "last_login", "date_joined")

    @admin.display(description=_("password"))
    def password_link(self, obj: User) -> str:
        # Only a link: the stored hash, even masked, tells a manager nothing.
        if obj.pk is None:
            return "—"
        return format_html(
            '<a class="text-primary-600 underline" href="{}">{}</a>',
            reverse("admin:auth_user_password_change", args=[obj.pk]),
            _("Set a new password") if obj.has_usable_password() else _("Set a password"),
        )

    @admin.display(description=_("name"))
    def full_name(self, obj: User) -> str:
        return obj.get_full_name()

    @admin.display(description=_("roles"))
    def roles(self, obj: User) -> str:
        return ", ".join(group.name for group in obj.groups.all())

    def get_queryset(self, request: HttpRequest) -> QuerySet[User]:
        return super().get_queryset(request).prefetch_related("groups")

    def get_readonly_fields(self, request: HttpRequest, obj: Model | None = None) -> Any:
        readonly = tuple(super().get_readonly_fields(request, obj))
        if not request.user.is_superuser:
            # Only a superuser may make or unmake superusers.
            readonly += ("is_superuser",)
        return readonly

    @method_decorator(transaction.atomic)
    def user_change_password(
        self, request: HttpRequest, id: str, form_url: str = ""
    ) -> HttpResponse:
        return super().user_change_password(request, id, form_url)

    def construct_change_message(
        self, request: HttpRequest, form: Any, formsets: Any, add: bool = False
    ) -> Any:
        if isinstance(form, AdminPasswordChangeForm):
            # The password itself never reaches the log, only the fact that it was set.
            audit_record(
                actor=Actor.from_request(request),
                action="user.set_password",
                instance=form.user,
            )
        return super().construct_change_message(request, form, formsets, add)

    def save_model(self, request: HttpRequest, obj: Model, form: ModelForm, change: bool) -> None:
        assert isinstance(obj, User)
        if not change:
            # Everyone created here signs in to the cabinet.
            obj.is_staff = True
        super().save_model(request, obj, form, change)


# Models without a list of their own whose rights the cabinet still checks.
ROLE_EXTRA_MODELS = frozenset({"coupons.couponbatch", "coupons.activation", "keys.keyline"})
PERMISSION_VERBS = {
    "view": pgettext_lazy("permission", "view"),
    "add": pgettext_lazy("permission", "add"),
    "change": pgettext_lazy("permission", "change"),
    "delete": pgettext_lazy("permission", "delete"),
}


def role_visible_permissions() -> QuerySet[Permission]:
    """The rights a role form offers: those of the models the cabinet shows, never the
    internal tables of the framework or of the libraries."""
    shown = {f"{model._meta.app_label}.{model._meta.model_name}" for model in admin.site._registry}
    shown |= ROLE_EXTRA_MODELS
    ids = [
        content_type.pk
        for content_type in ContentType.objects.filter(app_label__in=ROLE_APP_LABELS)
        if f"{content_type.app_label}.{content_type.model}" in shown
        and content_type.model_class() is not None
    ]
    return Permission.objects.filter(content_type__in=ids).select_related("content_type")


def permission_label(permission: Permission) -> str:
    model = permission.content_type.model_class()
    subject = capfirst(model._meta.verbose_name_plural) if model else permission.content_type.model
    action = permission.codename.partition("_")[0]
    verb = PERMISSION_VERBS.get(action)
    return f"{subject}: {verb}" if verb else f"{subject}: {_(permission.name)}"


@admin.register(Group)
class RoleAdmin(AuditedModelAdmin, BaseGroupAdmin):
    list_display = ("name", "member_count")

    def formfield_for_manytomany(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "permissions":
            field = super().formfield_for_manytomany(db_field, request, **kwargs)
            assert field is not None
            ordered = [p.pk for p in sorted(role_visible_permissions(), key=permission_label)]
            by_label = Case(*(When(pk=pk, then=index) for index, pk in enumerate(ordered)))
            field.queryset = (
                Permission.objects.filter(pk__in=ordered)
                .select_related("content_type")
                .order_by(by_label)
            )
            field.label_from_instance = permission_label  # type: ignore[method-assign,assignment]
            field.help_text = ""
            return field
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def save_related(
        self, request: HttpRequest, form: ModelForm, formsets: Any, change: bool
    ) -> None:
        # Rights the form does not offer stay as they were.
        if change and "permissions" in form.cleaned_data:
            offered = set(role_visible_permissions().values_list("pk", flat=True))
            kept = [p for p in form.instance.permissions.all() if p.pk not in offered]
            form.cleaned_data["permissions"] = [*form.cleaned_data["permissions"], *kept]
        super().save_related(request, form, formsets, change)

    @admin.display(description=_("users"))
    def member_count(self, obj: Group) -> int:
        return obj.user_set.count()  # type: ignore[attr-defined]


def cabinet_page(
    model_admin: ModelAdmin, request: HttpRequest, page: str = FORM_PAGE, **context: Any
) -> TemplateResponse:
    """A page of the cabinet's own in the admin's frame: by default the form page, which asks
    to confirm a change (title, intro, submit_label, cancel_url) or shows a form."""
    return TemplateResponse(
        request, page, {**model_admin.admin_site.each_context(request), **context}
    )


def admin_extend(model: type[Model], extension: type, **added: Sequence[Any]) -> None:
    """Registers the model's admin again with an app's part of its card mixed in: the
    extension's methods, and `added` actions or fields appended to the current admin's. Each
    app above the model's own adds its part this way, in the order the apps are installed,
    without knowing the others."""
    current = type(admin.site._registry[model])
    attributes: dict[str, Any] = {
        name: [*getattr(current, name), *values] for name, values in added.items()
    }
    attributes["__module__"] = extension.__module__
    admin.site.unregister(model)
    admin.site.register(model, type(current.__name__, (extension, current), attributes))


class SingletonAdmin(ModelAdmin):
    """A settings page of one row: never added or deleted; its list opens the row."""

    def singleton(self) -> Model:
        raise NotImplementedError

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        meta = self.model._meta
        return HttpResponseRedirect(
            reverse(f"admin:{meta.app_label}_{meta.model_name}_change", args=[self.singleton().pk])
        )


@admin.register(VendorSettings)
class VendorSettingsAdmin(SingletonAdmin):
    fieldsets = (
        (_("License keys"), {"fields": ("key_prefix",)}),
        (
            _("Sessions"),
            {"fields": ("lease_seconds", "offline_grace_days", "session_retention_days")},
        ),
        (_("Client cabinet"), {"fields": ("client_resets_per_30_days",)}),
        (_("Vendor API"), {"fields": ("api_calls_per_minute",)}),
        (_("Expiry reminders"), {"fields": ("first_reminder_days", "second_reminder_days")}),
        (_("Backups"), {"fields": ("backup_daily", "backup_keep", "backup_directory")}),
        (_("Signing key"), {"fields": ("public_key_display", "updated_at")}),
    )
    readonly_fields = ("public_key_display", "updated_at", "backup_directory")

    @admin.display(description=_("backup directory"))
    def backup_directory(self, obj: VendorSettings) -> str:
        return str(settings.BACKUP_DIR)

    def singleton(self) -> VendorSettings:
        return vendor_settings_get()

    @admin.display(description=_("public key (Ed25519)"))
    def public_key_display(self, obj: VendorSettings) -> str:
        return format_html(
            "<p>{}</p><code class='block break-all'>{}</code><pre class='mt-2 text-xs'>{}</pre>",
            _("Embed this key in the protected application to verify license certificates."),
            obj.signing_public_key,
            public_key_pem(obj.signing_public_key),
        )

    def save_model(
        self, request: HttpRequest, obj: VendorSettings, form: ModelForm, change: bool
    ) -> None:
        vendor_settings_update(
            actor=Actor.from_request(request),
            **{name: form.cleaned_data[name] for name in VENDOR_SETTINGS_EDITABLE},
        )
        messages.success(request, _("Vendor settings saved."))

    def response_change(self, request: HttpRequest, obj: Model) -> HttpResponse:
        return HttpResponseRedirect(request.path)


AUDIT_EVENT_FIELDS = [field.name for field in AuditEvent._meta.fields]


class AuditActionFilter(admin.SimpleListFilter):
    title = _("action")
    parameter_name = "action"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        stored = AuditEvent.objects.values_list("action", flat=True).distinct()
        return sorted(((code, action_label(code)) for code in stored), key=lambda item: item[1])

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        return queryset.filter(action=self.value()) if self.value() else queryset


@admin.register(AuditEvent)
class AuditEventAdmin(ModelAdmin):
    list_display = (
        "created_at",
        "actor_display",
        "action_display",
        "object_type_display",
        "object_repr",
        "ip",
    )
    list_filter = (("created_at", MomentRangeFilter), "actor_kind", AuditActionFilter)
    list_filter_submit = True
    search_fields = ("actor_label", "object_repr", "object_id", "action")
    date_hierarchy = "created_at"
    readonly_fields = AUDIT_EVENT_FIELDS

    def get_queryset(self, request: HttpRequest) -> QuerySet[AuditEvent]:
        return super().get_queryset(request).select_related("actor_user")

    def get_fields(self, request: HttpRequest, obj: Model | None = None) -> Any:
        shown = {
            "actor_label": "actor_display",
            "action": "action_display",
            "object_type": "object_type_display",
        }
        return [shown.get(name, name) for name in AUDIT_EVENT_FIELDS]

    def get_readonly_fields(self, request: HttpRequest, obj: Model | None = None) -> Any:
        return [*AUDIT_EVENT_FIELDS, "action_display", "object_type_display", "actor_display"]

    @admin.display(description=_("who"), ordering="actor_label")
    def actor_display(self, obj: AuditEvent) -> str:
        return actor_label(obj.actor_label, obj.actor_kind)

    @admin.display(description=_("action"), ordering="action")
    def action_display(self, obj: AuditEvent) -> str:
        return action_label(obj.action, obj.object_type)

    @admin.display(description=_("object type"), ordering="object_type")
    def object_type_display(self, obj: AuditEvent) -> str:
        return object_type_label(obj.object_type)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False


@admin.register(AccessAttempt)
class SignInLockoutAdmin(ModelAdmin):
    """Failed sign-ins as django-axes counts them; Полный доступ lifts a lock (core.lockout)."""

    list_display = ("username", "ip_address", "failures_since_start", "attempt_time")
    search_fields = ("username", "ip_address")
    ordering = ("-attempt_time",)
    fields = list_display
    readonly_fields = list_display
    actions = ["unlock"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        # Unlocked by the action, which is audited; never deleted row by row.
        return obj is None and super().has_delete_permission(request)

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    @admin.action(description=_("Unlock sign-in"), permissions=["delete"])
    def unlock(self, request: HttpRequest, queryset: QuerySet[AccessAttempt]) -> None:
        actor = Actor.from_request(request)
        lifted = sum(login_unlock(attempt=attempt, actor=actor) for attempt in queryset)
        self.message_user(request, _("Sign-in unlocked (%(count)d).") % {"count": lifted})


@admin.register(BackupRun)
class BackupRunAdmin(ModelAdmin):
    """Backups taken by the command and by the worker, newest first (read only)."""

    list_display = ("started_at", "kind", "status", "size_display", "path", "removed_at")
    list_filter = ("kind", "status")
    readonly_fields = [field.name for field in BackupRun._meta.fields]

    @admin.display(description=_("size"), ordering="size")
    def size_display(self, obj: BackupRun) -> str:
        return filesizeformat(obj.size) if obj.size is not None else "—"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False
