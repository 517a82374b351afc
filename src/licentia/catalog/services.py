"""Features and products: ids that are never reused, deletions that never break a key."""

from collections.abc import Iterable

from django.db import transaction
from django.db.models import Max
from django.utils.translation import gettext as _

from licentia.catalog.models import DeletedFeatureId, Feature, Product
from licentia.catalog.selectors import trial_products
from licentia.core.audit import Actor, audited_delete


def feature_next_id() -> int:
    """The next free feature id: above every id in use or ever deleted."""
    highest = max(
        Feature.objects.aggregate(top=Max("id"))["top"] or 0,
        DeletedFeatureId.objects.aggregate(top=Max("id"))["top"] or 0,
    )
    return highest + 1


def product_next_id() -> int:
    return (Product.objects.aggregate(top=Max("id"))["top"] or 0) + 1


def feature_id_is_free(feature_id: int) -> bool:
    return not (
        Feature.objects.filter(pk=feature_id).exists()
        or DeletedFeatureId.objects.filter(pk=feature_id).exists()
    )


def feature_delete_blockers(feature: Feature) -> list[str]:
    names = sorted({str(line.product) for line in feature.product_lines.select_related("product")})
    if not names:
        return []
    return [
        _("%(feature)s is used by %(products)s; retire it instead of deleting.")
        % {"feature": feature, "products": ", ".join(names)}
    ]


def feature_delete(*, feature: Feature, actor: Actor) -> None:
    with transaction.atomic():
        audited_delete(
            instance=feature,
            actor=actor,
            action="feature.delete",
            blockers=feature_delete_blockers,
            code="feature_in_use",
        )
        # Applications may still ask for the id: it is never given to another feature.
        DeletedFeatureId.objects.get_or_create(pk=feature.pk)


def product_delete_blockers(product: Product) -> list[str]:
    count = product.key_lines.values("key").distinct().count()
    if not count:
        return []
    return [
        _("%(product)s is held by %(count)d license keys; retire it instead of deleting.")
        % {"product": product, "count": count}
    ]


def product_ends_trials_errors(*, product: Product, trials: Iterable[Product]) -> list[str]:
    """Why a product may not list these products as the trials its purchase ends: each must
    give a trial, and the product's own trial ends with its purchase without being listed."""
    errors = []
    chosen = list(trials)
    if any(trial.pk == product.pk for trial in chosen):
        errors.append(_("A product does not list itself: its purchase ends its own trial anyway."))
    giving = set(
        trial_products().filter(pk__in=[trial.pk for trial in chosen]).values_list("pk", flat=True)
    )
    others = [trial for trial in chosen if trial.pk != product.pk and trial.pk not in giving]
    if others:
        errors.append(
            _("Only products with a trial can be listed; these give none: %(products)s.")
            % {"products": ", ".join(str(trial) for trial in others)}
        )
    return errors
