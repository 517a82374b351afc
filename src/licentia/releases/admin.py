from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import Model, QuerySet
from django.forms import ModelForm
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from unfold.admin import ModelAdmin, TabularInline

from licentia.core.admin import AuditedModelAdmin, SingletonAdmin
from licentia.core.audit import Actor, snapshot
from licentia.core.moments import DayField, MomentInput
from licentia.releases.models import (
    Compatibility,
    Distribution,
    Release,
    ReleaseFile,
    ReleaseMail,
    ReleaseSettings,
    Screenshot,
)
from licentia.releases.selectors import release_settings_get
from licentia.releases.services import (
    RELEASE_SETTINGS_EDITABLE,
    distribution_visibility_changed,
    release_delete,
    release_is_visible,
    release_settings_update,
    release_visibility_changed,
)
from licentia.releases.versions import version_key


def _image_preview(file: Any) -> str:
    if not file:
        return "—"
    return format_html('<img src="{}" alt="" class="max-h-16 rounded">', file.url)


class ScreenshotInline(TabularInline):
    model = Screenshot
    extra = 0
    fields = ("image", "caption", "position")
    verbose_name_plural = _("screenshots")


@admin.register(Distribution)
class DistributionAdmin(AuditedModelAdmin):
    list_display = ("name_ru", "identifier", "kind", "published", "paid", "logo_preview")
    list_filter = ("published", "paid", "kind")
    search_fields = ("name_ru", "name_en", "identifier", "developer")
    inlines = [ScreenshotInline]
    fieldsets = (
        (
            None,
            {"fields": ("published", "identifier", "paid", "developer", "kind", "extra_info")},
        ),
        (
            _("Texts"),
            {
                "fields": (
                    "name_ru",
                    "name_en",
                    "description_ru",
                    "description_en",
                    "documentation_url",
                    "eula_ru",
                    "eula_en",
                )
            },
        ),
        (_("Access"), {"fields": ("feature", "trial_product", "linked_products")}),
        (_("Logo"), {"fields": ("logo",)}),
    )

    @admin.display(description=_("logo"))
    def logo_preview(self, obj: Distribution) -> str:
        return _image_preview(obj.logo)

    def save_model(self, request: HttpRequest, obj: Model, form: ModelForm, change: bool) -> None:
        assert isinstance(obj, Distribution)
        form.was_published = (  # type: ignore[attr-defined]
            Distribution.objects.get(pk=obj.pk).published if change else False
        )
        super().save_model(request, obj, form, change)

    def save_related(
        self, request: HttpRequest, form: ModelForm, formsets: Any, change: bool
    ) -> None:
        super().save_related(request, form, formsets, change)
        distribution_visibility_changed(
            distribution=form.instance,
            was_published=getattr(form, "was_published", False),
        )


class ReleaseFileInline(TabularInline):
    model = ReleaseFile
    extra = 0
    min_num = 1
    fields = ("name", "url", "size", "md5", "sha256", "position", "downloads")
    readonly_fields = ("downloads",)
    verbose_name_plural = _("files")


class CompatibilityInline(TabularInline):
    model = Compatibility
    extra = 0
    fields = ("configuration", "min_version", "max_version")
    verbose_name_plural = _("compatible configurations")


class ReleaseForm(forms.ModelForm):
    class Meta:
        model = Release
        fields = [
            "distribution",
            "version",
            "released_on",
            "prerelease",
            "whats_new_ru",
            "whats_new_en",
            "min_platform_version",
        ]
        field_classes = {"released_on": DayField}
        widgets = {"released_on": MomentInput(with_time=False)}

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        distribution = cleaned.get("distribution")
        version = cleaned.get("version")
        if distribution is None or not version:
            return cleaned
        wanted = version_key(version)
        others = Release.objects.filter(distribution=distribution).exclude(pk=self.instance.pk)
        if any(version_key(other.version) == wanted for other in others):
            raise ValidationError(
                {"version": _("This distribution has a release of this version already.")}
            )
        return cleaned


@admin.register(Release)
class ReleaseAdmin(AuditedModelAdmin):
    form = ReleaseForm
    list_display = ("distribution", "version", "released_on", "prerelease", "downloads_total")
    list_filter = ("distribution", "prerelease")
    search_fields = ("version", "distribution__name_ru", "distribution__identifier")
    date_hierarchy = "released_on"
    inlines = [ReleaseFileInline, CompatibilityInline]
    list_select_related = ("distribution",)

    @admin.display(description=_("downloads"))
    def downloads_total(self, obj: Release) -> int:
        return sum(file.downloads for file in obj.files.all())

    def get_queryset(self, request: HttpRequest) -> QuerySet[Release]:
        return super().get_queryset(request).prefetch_related("files")

    def audit_snapshot(self, obj: Model) -> dict[str, Any]:
        assert isinstance(obj, Release)
        return {
            **snapshot(obj),
            "files": [snapshot(file) for file in obj.files.all()],
            "compatibility": [snapshot(row) for row in obj.compatibility.all()],
        }

    def save_model(self, request: HttpRequest, obj: Model, form: ModelForm, change: bool) -> None:
        assert isinstance(obj, Release)
        stored = Release.objects.select_related("distribution").filter(pk=obj.pk).first()
        form.was_visible = (  # type: ignore[attr-defined]
            stored is not None and release_is_visible(stored)
        )
        super().save_model(request, obj, form, change)

    def save_related(
        self, request: HttpRequest, form: ModelForm, formsets: Any, change: bool
    ) -> None:
        super().save_related(request, form, formsets, change)
        release_visibility_changed(
            release=form.instance, was_visible=getattr(form, "was_visible", False)
        )

    def delete_model(self, request: HttpRequest, obj: Model) -> None:
        assert isinstance(obj, Release)
        release_delete(release=obj, actor=Actor.from_request(request))


@admin.register(ReleaseSettings)
class ReleaseSettingsAdmin(SingletonAdmin):
    fields = RELEASE_SETTINGS_EDITABLE

    def singleton(self) -> ReleaseSettings:
        return release_settings_get()

    def save_model(
        self, request: HttpRequest, obj: ReleaseSettings, form: ModelForm, change: bool
    ) -> None:
        release_settings_update(
            actor=Actor.from_request(request),
            **{name: form.cleaned_data[name] for name in RELEASE_SETTINGS_EDITABLE},
        )
        messages.success(request, _("Release settings saved."))

    def response_change(self, request: HttpRequest, obj: Model) -> HttpResponse:
        return HttpResponseRedirect(request.path)


@admin.register(ReleaseMail)
class ReleaseMailAdmin(ModelAdmin):
    list_display = ("release", "client", "key", "state", "created_at", "sent_at")
    list_filter = ("state",)
    search_fields = ("client__company", "key__number", "release__version")
    list_select_related = ("release__distribution", "client", "key")
    readonly_fields = [field.name for field in ReleaseMail._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False
