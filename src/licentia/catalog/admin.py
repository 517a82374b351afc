from typing import Any

import nh3
from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db.models import Model
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from unfold.admin import TabularInline

from licentia.catalog.models import (
    Binding,
    Feature,
    LicenseType,
    Product,
    ProductFeature,
    effective_binding,
)
from licentia.catalog.services import (
    feature_delete,
    feature_delete_blockers,
    feature_id_is_free,
    feature_next_id,
    product_delete_blockers,
    product_next_id,
)
from licentia.core.admin import AuditedModelAdmin
from licentia.core.audit import Actor, snapshot

# What the activation e-mail may hold: simple formatting and links, nothing that runs.
ACTIVATION_TAGS = {"p", "br", "b", "strong", "i", "em", "u", "ul", "ol", "li", "a", "h3", "h4"}


class FeatureForm(forms.ModelForm):
    class Meta:
        model = Feature
        fields = ["id", "name_ru", "name_en", "retired"]

    def clean_id(self) -> int:
        feature_id = self.cleaned_data["id"]
        if self.instance._state.adding and not feature_id_is_free(feature_id):
            raise ValidationError(
                _("Id %(id)d is taken or belonged to a deleted feature; the next free is %(next)d.")
                % {"id": feature_id, "next": feature_next_id()}
            )
        return feature_id


@admin.register(Feature)
class FeatureAdmin(AuditedModelAdmin):
    form = FeatureForm
    list_display = ("id", "name_ru", "name_en", "retired")
    list_filter = ("retired",)
    search_fields = ("name_ru", "name_en", "=id")

    def get_readonly_fields(self, request: HttpRequest, obj: Model | None = None) -> Any:
        # The application knows the feature by its id: once saved, it never changes.
        return ("id",) if obj is not None else ()

    def get_changeform_initial_data(self, request: HttpRequest) -> dict[str, Any]:
        return {"id": feature_next_id(), **super().get_changeform_initial_data(request)}

    def get_deleted_objects(self, objs: Any, request: HttpRequest) -> Any:
        protected = [message for feature in objs for message in feature_delete_blockers(feature)]
        return [str(feature) for feature in objs], {}, set(), protected

    def delete_model(self, request: HttpRequest, obj: Model) -> None:
        assert isinstance(obj, Feature)
        feature_delete(feature=obj, actor=Actor.from_request(request))


class ProductFeatureForm(forms.ModelForm):
    class Meta:
        model = ProductFeature
        fields = [
            "feature",
            "license_type",
            "count",
            "multiplier_allowed",
            "binding",
            "idle_limit_days",
        ]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        kind = cleaned.get("license_type")
        binding = cleaned.get("binding")
        if kind == LicenseType.TOKEN and binding:
            self.add_error("binding", _("Tokens are not bound to anything; leave it empty."))
        bound = effective_binding(kind or "", binding or "") == Binding.BOUND
        if cleaned.get("idle_limit_days") and not bound:
            self.add_error("idle_limit_days", _("Only bound seats have an idle limit."))
        return cleaned


class ProductFeatureInline(TabularInline):
    model = ProductFeature
    form = ProductFeatureForm
    extra = 0
    min_num = 1
    verbose_name_plural = _("feature lines")


class ProductForm(forms.ModelForm):
    class Meta:
        model = Product
        fields = [
            "id",
            "name_ru",
            "name_en",
            "crm_guid",
            "comment",
            "retired",
            "trial_days",
            "trial_counting",
            "permanent_instead_of_trial",
            "ends_trials",
            "activation_text_ru",
            "activation_text_en",
        ]

    def _clean_activation(self, name: str) -> str:
        return nh3.clean(self.cleaned_data.get(name, ""), tags=ACTIVATION_TAGS)

    def clean_activation_text_ru(self) -> str:
        return self._clean_activation("activation_text_ru")

    def clean_activation_text_en(self) -> str:
        return self._clean_activation("activation_text_en")


@admin.register(Product)
class ProductAdmin(AuditedModelAdmin):
    form = ProductForm
    inlines = [ProductFeatureInline]
    list_display = ("id", "name_ru", "name_en", "trial_days", "retired", "key_count")
    list_filter = ("retired", "trial_counting")
    search_fields = ("name_ru", "name_en", "crm_guid", "=id")
    filter_horizontal = ("ends_trials",)
    readonly_fields = ("keys_affected",)
    fieldsets = (
        (None, {"fields": ("id", "name_ru", "name_en", "crm_guid", "comment", "retired")}),
        (
            _("Trial"),
            {
                "fields": (
                    "trial_days",
                    "trial_counting",
                    "permanent_instead_of_trial",
                    "ends_trials",
                )
            },
        ),
        (_("Activation e-mail"), {"fields": ("activation_text_ru", "activation_text_en")}),
        (_("Keys"), {"fields": ("keys_affected",)}),
    )

    def audit_snapshot(self, obj: Model) -> dict[str, Any]:
        assert isinstance(obj, Product)
        return {**snapshot(obj), "lines": [snapshot(line) for line in obj.lines.all()]}

    @admin.display(description=_("keys"))
    def key_count(self, obj: Product) -> int:
        return obj.key_lines.values("key").distinct().count()

    @admin.display(description=_("keys holding this product"))
    def keys_affected(self, obj: Product) -> str:
        if obj.pk is None:
            return "—"
        return str(
            _(
                "%(count)d keys hold this product: a change of its feature lines changes "
                "their capacity from the moment it is saved."
            )
            % {"count": self.key_count(obj)}
        )

    def get_readonly_fields(self, request: HttpRequest, obj: Model | None = None) -> Any:
        fixed = ("id",) if obj is not None else ()
        return (*fixed, *self.readonly_fields)

    def get_changeform_initial_data(self, request: HttpRequest) -> dict[str, Any]:
        return {"id": product_next_id(), **super().get_changeform_initial_data(request)}

    def get_deleted_objects(self, objs: Any, request: HttpRequest) -> Any:
        protected = [message for product in objs for message in product_delete_blockers(product)]
        return [str(product) for product in objs], {}, set(), protected
