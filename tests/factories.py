import factory

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
