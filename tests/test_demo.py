import pytest

from licentia.cabinet.demo import demo_seed
from licentia.catalog.models import Product
from licentia.keys.models import LicenseKey
from licentia.keys.selectors import KeyState, key_state


@pytest.mark.django_db
def test_the_demo_holds_a_catalog_and_keys_in_every_state(tmp_path) -> None:
    login = demo_seed(data_dir=tmp_path)

    assert login.username == "admin"
    assert demo_seed(data_dir=tmp_path) == login
    pro = Product.objects.get(name_ru="Торговля PRO")
    assert pro.ends_trials.filter(trial_days__gt=0).exists()
    states = {key_state(key) for key in LicenseKey.objects.all()}
    assert states == {
        KeyState.ACTIVE,
        KeyState.TRIAL,
        KeyState.EXPIRING,
        KeyState.EXPIRED,
        KeyState.BLOCKED,
        KeyState.EMPTY,
    }
