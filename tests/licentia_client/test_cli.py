import json

import pytest

from licentia.catalog.models import LicenseType
from licentia.core.audit import Actor
from licentia.coupons.models import CouponKind
from licentia.coupons.services import Row, coupon_batch_generate
from licentia.keys.services import license_key_generate
from licentia.licensing.models import Session
from licentia_client.cli import duration, main
from tests.factories import make_client, make_product

pytestmark = pytest.mark.django_db(transaction=True)


def run(capsys, live_server, *args: str) -> dict:
    main(["--server", live_server.url, "--user", "Иванов", "--host", "buh-01", *args])
    return json.loads(capsys.readouterr().out)


def test_the_command_line_registers_a_trial_reads_it_holds_a_seat_and_verifies(
    capsys, live_server
) -> None:
    make_product(100, (10, LicenseType.USER, 1, False), trial_days=14)

    trial = run(
        capsys,
        live_server,
        "trial",
        "--product",
        "100",
        "--company",
        "ООО Ромашка",
        "--email",
        "buh@romashka.ru",
    )
    info = run(capsys, live_server, "info", trial["key"])
    held = run(capsys, live_server, "capture", trial["key"], "10", "--hold", "0.1s")
    verified = run(capsys, live_server, "verify", info["certificate"])

    assert info["summary"][0]["total"] == 1
    assert held["type"] == "USER"
    assert Session.objects.get().end_reason == "released"
    assert verified["key"] == trial["key"]


def test_a_refusal_exits_with_its_code_on_standard_error(capsys, live_server) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(
            [
                "--server",
                live_server.url,
                "--language",
                "en",
                "info",
                "DEMO-00000-00000-00000-00000",
            ]
        )

    assert exit_.value.code == 2
    assert "2009 Unknown license key." in capsys.readouterr().err


def test_durations_read_as_people_write_them() -> None:
    assert [duration("30"), duration("30s"), duration("5m"), duration("1h")] == [30, 30, 300, 3600]


def test_the_command_line_activates_a_coupon(capsys, live_server) -> None:
    product = make_product(200, (10, LicenseType.USER, 2, False))
    key = license_key_generate(client=make_client(), actor=Actor.system("tests"))
    batch = coupon_batch_generate(
        kind=CouponKind.NEW_PRODUCT, rows=[Row(product=product)], actor=Actor.system("tests")
    )
    code = batch.coupons.get().code

    answer = run(capsys, live_server, "coupon", key.number.lower(), code.replace("-", " "))

    assert answer["coupon"] == code
    assert answer["summary"][0]["total"] == 2
    with pytest.raises(SystemExit) as exit_:
        main(["--server", live_server.url, "--language", "en", "coupon", key.number, code])
    assert exit_.value.code == 2
    assert "2041" in capsys.readouterr().err
