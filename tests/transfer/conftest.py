import pytest

from licentia.catalog.models import LicenseType
from tests.factories import make_product


@pytest.fixture
def product() -> None:
    """Product 1: one USER seat of feature 10 a unit of multiplier."""
    make_product(
        1, (10, LicenseType.USER, 1, True), crm_guid="b7e1a0c2-0000-4000-8000-000000000001"
    )
