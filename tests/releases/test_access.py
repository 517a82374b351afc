"""Who may have which release, as the clock moves: subscriptions keep their period's releases,
linked products open all, pre-releases reach only the vendor's networks, unpublished
distributions nobody."""

from datetime import timedelta

import pytest

from licentia.catalog.models import Product
from licentia.keys.models import LineState
from licentia.releases.models import Distribution, ReleaseSettings
from licentia.releases.selectors import client_distributions, releases_for_key
from licentia.releases.services import release_settings_update
from tests.releases.conftest import ACTOR, ONE_DAY, add_line, make_key, noon, publish, today

pytestmark = pytest.mark.django_db


def offered(key, *, at, ip=None, installed="", identifier="buh") -> list[str]:
    return [
        offer.release.version
        for offer in releases_for_key(
            key=key,
            distribution_identifier=identifier,
            installed=installed,
            configuration="",
            configuration_version="",
            show_untested=True,
            ip=ip,
            moment=at,
        )
    ]


def test_an_ended_subscription_keeps_the_releases_of_its_period_and_loses_newer_ones(
    distribution: Distribution, subscription_product: Product
) -> None:
    start = today() - timedelta(days=100)
    key = make_key()
    add_line(key, subscription_product, starts=start, ends=start + timedelta(days=30))
    publish(distribution, "1.0", start - timedelta(days=10))
    publish(distribution, "1.1", start + timedelta(days=10))
    publish(distribution, "1.2", start + timedelta(days=30))
    publish(distribution, "2.0", start + timedelta(days=31))

    while_live = noon(start + timedelta(days=20))
    assert offered(key, at=while_live) == ["2.0", "1.2", "1.1", "1.0"]
    after_end = noon(start + timedelta(days=60))
    assert offered(key, at=after_end) == ["1.2", "1.1", "1.0"]


def test_a_renewal_opens_the_releases_published_in_the_gap(
    distribution: Distribution, subscription_product: Product
) -> None:
    start = today() - timedelta(days=100)
    key = make_key()
    add_line(key, subscription_product, starts=start, ends=start + timedelta(days=30))
    publish(distribution, "2.0", start + timedelta(days=40))
    assert offered(key, at=noon(today())) == []
    add_line(key, subscription_product, starts=today() - ONE_DAY, ends=today() + 3 * ONE_DAY)
    assert offered(key, at=noon(today())) == ["2.0"]


def test_a_line_undone_by_a_coupon_deactivation_never_gave_anything(
    distribution: Distribution, subscription_product: Product
) -> None:
    key = make_key()
    add_line(key, subscription_product, starts=today() - 10 * ONE_DAY)
    key.lines.update(state=LineState.REMOVED_BY_COUPON, ended_at=noon(today()))
    publish(distribution, "1.0", today() - 20 * ONE_DAY)
    assert offered(key, at=noon(today())) == []


def test_a_linked_product_opens_every_release_while_its_line_lives(
    distribution: Distribution, linked_product: Product
) -> None:
    key = make_key()
    add_line(key, linked_product, starts=today() - 5 * ONE_DAY, ends=today() + 5 * ONE_DAY)
    publish(distribution, "1.0", today() - 400 * ONE_DAY)
    publish(distribution, "3.0", today() + 3 * ONE_DAY)
    assert offered(key, at=noon(today())) == ["3.0", "1.0"]
    assert offered(key, at=noon(today() + 6 * ONE_DAY)) == []


def test_a_key_without_the_feature_or_a_linked_product_has_nothing(
    distribution: Distribution,
) -> None:
    publish(distribution, "1.0", today())
    assert offered(make_key(), at=noon(today())) == []


def test_a_free_distribution_is_open_to_every_key() -> None:
    from tests.releases.conftest import make_distribution

    free = make_distribution("free", paid=False)
    publish(free, "1.0", today())
    assert offered(make_key(), at=noon(today()), identifier="free") == ["1.0"]


def test_pre_releases_reach_only_the_listed_networks(
    distribution: Distribution, linked_product: Product
) -> None:
    key = make_key()
    add_line(key, linked_product, starts=today() - ONE_DAY)
    publish(distribution, "1.0", today())
    publish(distribution, "1.1", today(), prerelease=True)
    release_settings_update(actor=ACTOR, prerelease_networks="203.0.113.0/24\n2001:db8::/32")
    assert offered(key, at=noon(today()), ip="198.51.100.7") == ["1.0"]
    assert offered(key, at=noon(today()), ip=None) == ["1.0"]
    assert offered(key, at=noon(today()), ip="203.0.113.9") == ["1.1", "1.0"]
    assert offered(key, at=noon(today()), ip="2001:db8::5") == ["1.1", "1.0"]


def test_an_unpublished_distribution_offers_nothing_to_anyone(
    distribution: Distribution, linked_product: Product
) -> None:
    key = make_key()
    add_line(key, linked_product, starts=today() - ONE_DAY)
    publish(distribution, "1.0", today())
    distribution.published = False
    distribution.save()
    assert offered(key, at=noon(today())) == []
    assert offered(key, at=noon(today()), identifier="") == []
    assert client_distributions(key.client, at=noon(today())) == []


def test_only_releases_newer_than_the_installed_one_are_offered_with_their_changelog(
    distribution: Distribution, linked_product: Product
) -> None:
    key = make_key()
    add_line(key, linked_product, starts=today() - ONE_DAY)
    for version in ("4.0.8", "4.0.9", "4.0.10", "4.1"):
        publish(distribution, version, today(), whats_new_ru=f"Новое в {version}")
    offers = releases_for_key(
        key=key,
        distribution_identifier="buh",
        installed="4.0.9",
        configuration="",
        configuration_version="",
        show_untested=True,
        ip=None,
        moment=noon(today()),
    )
    assert [offer.release.version for offer in offers] == ["4.1", "4.0.10"]
    assert [item.version for item in offers[0].changelog] == ["4.1", "4.0.10"]
    assert [item.version for item in offers[1].changelog] == ["4.0.10"]


def test_the_client_cabinet_lists_what_any_of_the_clients_keys_may_have(
    distribution: Distribution, subscription_product: Product, linked_product: Product
) -> None:
    from tests.releases.conftest import make_distribution

    other = make_distribution("zup", name_ru="Зарплата", linked_products=[linked_product])
    key = make_key()
    add_line(key, subscription_product, starts=today() - 50 * ONE_DAY, ends=today() - 20 * ONE_DAY)
    publish(distribution, "1.0", today() - 30 * ONE_DAY)
    publish(distribution, "2.0", today() - 10 * ONE_DAY)
    publish(other, "5.0", today())
    blocked = make_key()
    blocked.client = key.client
    blocked.blocked = True
    blocked.save()
    add_line(blocked, linked_product, starts=today() - ONE_DAY)
    listed = client_distributions(key.client, at=noon(today()))
    assert [
        (entry.distribution.identifier, [r.version for r in entry.releases]) for entry in listed
    ] == [("buh", ["1.0"])]
    assert ReleaseSettings.objects.count() == 1
