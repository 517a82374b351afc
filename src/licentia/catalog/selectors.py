from django.db.models import Prefetch, QuerySet

from licentia.catalog.models import Feature, Product, ProductFeature
from licentia.core.process_cache import ProcessCache


def _load_products() -> dict[int, Product]:
    feature_lines = ProductFeature.objects.select_related("feature").order_by("id")
    products = Product.objects.prefetch_related(Prefetch("lines", queryset=feature_lines))
    return {product.pk: product for product in products}


_products = ProcessCache(
    _load_products,
    cleared_by=[Product, ProductFeature, Feature, Product.ends_trials.through],
)


def catalog_products(*, fresh: bool = False) -> dict[int, Product]:
    """Every product with its feature lines and their features, as this process last read
    them (at most PROCESS_CACHE_SECONDS ago, or now when `fresh`). For reading only."""
    if fresh:
        _products.clear()
    return _products.get()


def trial_products() -> QuerySet[Product]:
    """The products that give a trial: those a purchase of another product may end."""
    return Product.objects.filter(trial_days__gt=0, permanent_instead_of_trial=False)
