from typing import Any

import factory

from licentia.catalog.models import Feature, Product, ProductFeature
from licentia.clients.models import Client, Distributor
from licentia.clients.services import client_create
from licentia.core.audit import Actor
from licentia.core.models import User

TEST_PASSWORD = "correct horse battery staple"


class StaffUserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"staff{n}")
    email = factory.LazyAttribute(lambda user: f"{user.username}@example.com")
    is_staff = True
    language = "ru"
    password = factory.PostGenerationMethodCall("set_password", TEST_PASSWORD)

    @factory.post_generation
    def save_password(obj: User, create: bool, extracted: object, **kwargs: object) -> None:
        if create:
            obj.save()


class DistributorFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Distributor

    name = factory.Sequence(lambda n: f"Партнёр {n}")
    email = factory.Sequence(lambda n: f"partner{n}@example.com")


def make_client(**fields: object) -> Client:
    """A client created as a manager creates one, through the service."""
    defaults: dict[str, object] = {"company": "ООО Ромашка", "contact": "Иван Петров"}
    return client_create(actor=Actor.system("tests"), **{**defaults, **fields})


def make_product(product_id: int, *lines: tuple[Any, ...], **fields: object) -> Product:
    """A product with feature lines (feature id, type, count, multiplier allowed[, extra
    fields of the line]); features are created as needed."""
    made = Product.objects.create(
        **{"id": product_id, "name_ru": f"Продукт {product_id}", **fields}
    )
    for feature_id, kind, count, multiplier_allowed, *extra in lines:
        feature, _created = Feature.objects.get_or_create(
            id=feature_id, defaults={"name_ru": f"Фича {feature_id}"}
        )
        ProductFeature.objects.create(
            product=made,
            feature=feature,
            license_type=kind,
            count=count,
            multiplier_allowed=multiplier_allowed,
            **(extra[0] if extra else {}),
        )
    return made
