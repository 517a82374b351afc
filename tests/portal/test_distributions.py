"""The client cabinet's Дистрибутивы tab: what the client's keys may install, nothing else."""

from datetime import date

from django.test import Client as HttpClient

from licentia.catalog.models import Product
from licentia.releases.models import DistributionKind, ReleaseFile
from tests.portal.conftest import Company, signed_in
from tests.releases.conftest import make_distribution, publish


def _distributions(product_id: int) -> None:
    accounting = make_distribution(
        "buh",
        name_en="Accounting",
        kind=DistributionKind.CONFIGURATION,
        eula_en="Use it well.",
        linked_products=[Product.objects.get(pk=product_id)],
    )
    publish(accounting, "4.0.9", date(2026, 1, 10), whats_new_en="Bank statements load.")
    publish(accounting, "4.0.10", date(2026, 2, 10), whats_new_en="Faster closing.")
    extension = make_distribution(
        "ext",
        name_en="Bank extension",
        kind=DistributionKind.EXTENSION,
        linked_products=[Product.objects.get(pk=product_id)],
    )
    publish(extension, "1.2", date(2026, 2, 1))


def test_the_tab_lists_the_releases_the_clients_keys_may_install_with_counted_links(
    portal: HttpClient, ours: Company
) -> None:
    _distributions(1)

    page = portal.get("/my/distributions/").content.decode()

    assert "Accounting" in page
    assert "Bank extension" in page
    assert page.index("4.0.10") < page.index("4.0.9")
    assert "Faster closing." in page
    assert "Use it well." in page
    assert "/releases/download/" in page
    assert "setup-4.0.10.zip" in page


def test_another_clients_distributions_stay_hidden(
    client: HttpClient, ours: Company, theirs: Company
) -> None:
    _distributions(1)
    client.cookies["django_language"] = "en"
    theirs_browser = signed_in(client, theirs.client, "it@lutik.ru")

    page = theirs_browser.get("/my/distributions/").content.decode()

    assert "Accounting" not in page
    assert "4.0.10" not in page
    assert "No distributions are open to your keys." in page


def test_the_tab_filters_by_type_and_text(portal: HttpClient, ours: Company) -> None:
    _distributions(1)

    extensions = portal.get("/my/distributions/?kind=extension").content.decode()
    searched = portal.get("/my/distributions/?q=ACCOUNT").content.decode()

    assert "Bank extension" in extensions
    assert "Accounting" not in extensions
    assert "Accounting" in searched
    assert "Bank extension" not in searched


def test_a_download_from_the_tab_is_counted(portal: HttpClient, ours: Company) -> None:
    _distributions(1)
    page = portal.get("/my/distributions/").content.decode()
    path = "/releases/download/" + page.split("/releases/download/", 1)[1].split('"', 1)[0]

    answer = portal.get(path)

    assert answer.status_code == 302
    assert sum(ReleaseFile.objects.values_list("downloads", flat=True)) == 1
