import json

import pytest

from licentia_client.cli import main
from tests.releases.conftest import ONE_DAY, add_line, make_distribution, make_key, publish, today

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_command_line_lists_the_releases_newer_than_the_installed_one(
    capsys, live_server
) -> None:
    from tests.factories import make_product

    product = make_product(8, (80, "USER", 1, False))
    key = make_key()
    add_line(key, product, starts=today() - ONE_DAY)
    distribution = make_distribution(linked_products=[product])
    for version in ("1.2.3", "1.2.4", "1.10"):
        publish(distribution, version, today())

    main(
        [
            "--server",
            live_server.url,
            "releases",
            key.number,
            "--type",
            "buh",
            "--installed",
            "1.2.3",
        ]
    )
    modules = json.loads(capsys.readouterr().out)

    assert [module["version"] for module in modules] == ["1.10", "1.2.4"]
    assert modules[0]["files"][0]["name"] == "setup-1.10.zip"


def test_a_bad_version_on_the_command_line_exits_with_the_servers_error(
    capsys, live_server
) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(
            [
                "--server",
                live_server.url,
                "releases",
                "DEMO-00000-00000-00000-00000",
                "--installed",
                "v1",
            ]
        )
    assert exit_.value.code == 2
    assert "INSTALLED_VERSION" in capsys.readouterr().err
