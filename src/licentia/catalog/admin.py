from typing import Any

import nh3
from django import forms
from django.contrib import admin
from django.contrib.admin.widgets import FilteredSelectMultiple
from django.core.exceptions import ValidationError
from django.db.models import Model
from django.http import HttpRequest, HttpResponse
from django.utils.text import slugify
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from unfold.admin import TabularInline
from unfold.templatetags import unfold as unfold_tags

from licentia.catalog.models import (
    Binding,
    Feature,
    LicenseType,
    Product,
    ProductFeature,
    effective_binding,
)
from licentia.catalog.selectors import trial_products
from licentia.catalog.services import (
    feature_delete,
    feature_delete_blockers,
    feature_id_is_free,
    feature_next_id,
    product_delete_blockers,
    product_ends_trials_errors,
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
        # Short headings: the line's columns go to the feature's name, its type and binding.
        labels = {"idle_limit_days": _("idle limit, days")}

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
    # Styled by its class in cabinet.css: each column as wide as the longest of its choices.
    classes = ["lc-feature-lines"]


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

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        trials = self.fields.get("ends_trials")
        if not isinstance(trials, forms.ModelMultipleChoiceField):
            return  # a read-only card shows the list as it is
        trials.queryset = trial_products().exclude(pk=self.instance.pk)
        trials.help_text = _("Only products that give a trial are offered.")
        # The picker names its two lists after the field: the short name lets it fit the card.
        picker = getattr(trials.widget, "widget", trials.widget)
        if isinstance(picker, FilteredSelectMultiple):
            picker.verbose_name = _("trial products")

    def clean_ends_trials(self) -> Any:
        trials = self.cleaned_data["ends_trials"]
        errors = product_ends_trials_errors(product=self.instance, trials=trials)
        if errors:
            raise ValidationError(errors)
        return trials

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
        (
            pgettext_lazy("product card tab", "Main"),
            {
                "classes": ["tab"],
                "fields": (
                    "id",
                    "name_ru",
                    "name_en",
                    "crm_guid",
                    "comment",
                    "retired",
                    "keys_affected",
                ),
            },
        ),
        (_("Description RU"), {"classes": ["tab"], "fields": ("activation_text_ru",)}),
        (_("Description EN"), {"classes": ["tab"], "fields": ("activation_text_en",)}),
        # The feature lines' tab: change_form.html puts the inline here.
        (_("Features"), {"classes": ["tab", "lc-inlines"], "fields": ()}),
        (
            _("Trial"),
            {
                "classes": ["tab"],
                "fields": (
                    "trial_days",
                    "trial_counting",
                    "permanent_instead_of_trial",
                    "ends_trials",
                ),
            },
        ),
    )

    def render_change_form(
        self, request: HttpRequest, context: dict[str, Any], *args: Any, **kwargs: Any
    ) -> HttpResponse:
        # A card sent back with errors opens on the first tab that holds one.
        lines_errors = sum(
            inline.formset.total_error_count() for inline in context["inline_admin_formsets"]
        )
        tabs = unfold_tags.tabs(context["adminform"])
        fields_errors = any(unfold_tags.tabs_errors_count(fieldset) for fieldset in tabs)
        features = next(fieldset for fieldset in tabs if "lc-inlines" in fieldset.classes)
        chosen = features if lines_errors and not fields_errors else None
        context["lines_error_count"] = lines_errors
        context["active_tab"] = (
            slugify(str(chosen.name), allow_unicode=True)
            if chosen is not None
            else unfold_tags.tabs_active(tabs)
        )
        return super().render_change_form(request, context, *args, **kwargs)

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
