import pytest

from licentia.clients.models import Distributor
from licentia.core.sqlite import _like

pytestmark = pytest.mark.django_db


def test_lists_find_cyrillic_words_in_any_case_on_both_databases() -> None:
    Distributor.objects.create(name="Софтлайн-Регион")
    Distributor.objects.create(name="ЛЮТИК_100%")

    assert list(
        Distributor.objects.filter(name__icontains="софтлайн").values_list("name", flat=True)
    ) == ["Софтлайн-Регион"]
    assert Distributor.objects.filter(name__icontains="лютик_100%").count() == 1
    assert Distributor.objects.filter(name__icontains="лютик_1000").count() == 0
    assert Distributor.objects.filter(name__istartswith="РЕГИОН").count() == 0


@pytest.mark.parametrize(
    ("pattern", "value", "matches"),
    [
        ("%ива%", "Иванов", True),
        ("ива%", "Иванов", True),
        ("%нов", "ИВАНОВ", True),
        ("и_анов", "Иванов", True),
        ("%\\%%", "100%", True),
        ("%\\%%", "100", False),
        ("ёж", "Ёж", True),
    ],
)
def test_the_like_of_sqlite_connections_folds_every_letter(pattern, value, matches) -> None:
    assert _like(pattern, value, "\\") is matches
