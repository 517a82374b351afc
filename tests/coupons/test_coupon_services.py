"""Coupons through their services: the generator, every kind and term, every refusal,
deactivation and the manual change of a line."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from licentia.catalog.models import LicenseType
from licentia.core import keycodes
from licentia.core.models import AuditEvent
from licentia.core.moments import day_end
from licentia.coupons.models import Activation, Coupon, CouponKind, Term
from licentia.coupons.selectors import CouponState, coupon_code_parse, coupon_state
from licentia.coupons.services import (
    Row,
    activation_deactivate,
    coupon_batch_generate,
    coupons_set_blocked,
    key_line_change,
)
from licentia.coupons.signals import coupon_activated
from licentia.keys.models import KeyLine, LineState
from licentia.keys.selectors import key_capacity, key_lines, line_is_live
from licentia.keys.services import key_delete, key_set_blocked, license_key_generate
from licentia.licensing.models import EndReason, Session
from licentia.licensing.refusals import Code, Refusal
from licentia.licensing.services.sessions import session_capture
from licentia.licensing.units import Unit
from tests.coupons.conftest import ACTOR, activate, make_coupons
from tests.factories import DistributorFactory, make_client

pytestmark = pytest.mark.django_db


def live(key) -> list[tuple[str, int, bool]]:
    return sorted(
        (line.product.name_ru, line.multiplier, line.is_trial)
        for line in key_lines(key)
        if line_is_live(line)
    )


def refused(code: Code, key, coupon) -> None:
    with pytest.raises(Refusal) as caught:
        activate(key, coupon)
    assert caught.value.code == code


def test_a_batch_has_distinct_codes_of_the_vendor_with_a_check_character(catalog) -> None:
    distributor = DistributorFactory()
    batch = coupon_batch_generate(
        kind=CouponKind.NEW_PRODUCT,
        rows=[Row(product=catalog["pro"])],
        actor=ACTOR,
        count=50,
        distributor=distributor,
        invoice_number="СЧ-17",
    )

    codes = list(batch.coupons.values_list("code", flat=True))
    assert len(set(codes)) == 50 == batch.size
    for code in codes:
        prefix, body = keycodes.parse_code(code, prefix_length=7)
        assert prefix == "DEMOUPD"
        assert keycodes.body_is_valid(body)
    assert batch.distributor == distributor
    assert AuditEvent.objects.filter(action="coupon_batch.generate").count() == 1


def test_a_drawn_code_that_exists_is_drawn_again(catalog, monkeypatch) -> None:
    taken = make_coupons(CouponKind.NEW_PRODUCT, Row(product=catalog["pro"]))[0].code
    draws = iter([[taken], [taken], ["DEMOUPD-" + "-".join(["00000"] * 4)]])
    monkeypatch.setattr(keycodes, "generate_coupons", lambda prefix, count: next(draws))

    fresh = make_coupons(CouponKind.NEW_PRODUCT, Row(product=catalog["pro"]))

    assert [coupon.code for coupon in fresh] == ["DEMOUPD-00000-00000-00000-00000"]


def test_the_generator_refuses_what_makes_no_coupon(catalog, key) -> None:
    with pytest.raises(ValidationError) as caught:
        coupon_batch_generate(
            kind=CouponKind.NEW_PRODUCT,
            rows=[
                Row(product=catalog["base"], multiplier=3),
                Row(product=catalog["pro"], term=Term.DAYS),
            ],
            actor=ACTOR,
            count=10_001,
            reusable=True,
        )
    text = " ".join(caught.value.messages)
    assert "allows a multiplier" in text
    assert "number of days" in text
    assert "from 1 to 10000" in text
    assert "trial extension can be reusable" in text
    with pytest.raises(ValidationError, match="bound to one key"):
        coupon_batch_generate(kind=CouponKind.UPGRADE, rows=[], actor=ACTOR)
    assert not Coupon.objects.exists()


def test_codes_drawn_at_once_are_valid_coupons_of_the_prefix() -> None:
    codes = keycodes.generate_coupons("DEMO", 2000)

    assert len(set(codes)) == 2000
    assert all(coupon_code_parse(code) == code for code in codes)
    assert {symbol for code in codes for symbol in code[8:].replace("-", "")} == set(
        keycodes.ALPHABET
    )


def test_a_code_is_found_in_any_formatting() -> None:
    code = keycodes.generate_coupon("DEMO")
    typed = code.lower().replace("-", " ").replace("0", "o")

    assert coupon_code_parse(typed) == code
    assert coupon_code_parse(code[:-1] + ("1" if code[-1] != "1" else "2")) is None
    assert coupon_code_parse(keycodes.generate_key("DEMO")) is None


def test_a_perpetual_product_ends_its_own_trial_and_the_trials_it_lists(catalog, key) -> None:
    trial_pro = KeyLine.objects.create(
        key=key,
        product=catalog["pro"],
        is_trial=True,
        starts_at=timezone.now(),
        expires_at=timezone.now() + timedelta(days=5),
    )
    coupon = make_coupons(CouponKind.NEW_PRODUCT, Row(product=catalog["pro"], multiplier=3))[0]
    received = []
    coupon_activated.connect(lambda activation, **_: received.append(activation), weak=False)

    activation = activate(key, coupon)

    assert live(key) == [("Продукт 2", 3, False)]
    trial_pro.refresh_from_db()
    assert trial_pro.state == LineState.ENDED_BY_PURCHASE
    assert key.lines.get(product=catalog["base"]).state == LineState.ENDED_BY_PURCHASE
    assert key_capacity(key)[(10, LicenseType.USER)] == 6
    assert received == [activation]
    assert [row["before"] is None for row in activation.changes] == [False, False, True]
    coupon.refresh_from_db()
    assert coupon.activated_key == key
    assert coupon_state(coupon) == CouponState.ACTIVATED
    event = AuditEvent.objects.get(action="coupon.activate")
    assert event.after["coupon"] == coupon.code


def test_the_terms_give_a_fixed_date_days_after_activation_or_no_end(catalog, key) -> None:
    day = timezone.localdate() + timedelta(days=100)
    coupon = make_coupons(
        CouponKind.NEW_PRODUCT,
        Row(product=catalog["pro"], term=Term.FIXED_DATE, expires_at=day_end(day)),
        Row(product=catalog["usage"], term=Term.DAYS, days=30),
        Row(product=catalog["base"]),
    )[0]
    moment = timezone.now()

    activate(key, coupon, at=moment)

    lines = {line.product_id: line for line in key.lines.filter(state=LineState.ACTIVE)}
    assert timezone.localdate(lines[2].expires_at) == day
    assert lines[3].expires_at == moment + timedelta(days=30)
    assert lines[1].expires_at is None
    assert not lines[1].is_trial


def test_a_calendar_trial_extension_counts_from_its_end_or_from_now(catalog, key) -> None:
    coupon = make_coupons(CouponKind.TRIAL_EXTEND, Row(product=catalog["base"], days=10))[0]
    trial = key.lines.get()
    end = trial.expires_at

    activate(key, coupon)

    trial.refresh_from_db()
    assert trial.expires_at == end + timedelta(days=10)

    expired = license_key_generate(client=make_client(company="ООО Лютик"), actor=ACTOR)
    old = KeyLine.objects.create(
        key=expired,
        product=catalog["base"],
        is_trial=True,
        starts_at=timezone.now() - timedelta(days=30),
        expires_at=timezone.now() - timedelta(days=16),
    )
    second = make_coupons(CouponKind.TRIAL_EXTEND, Row(product=catalog["base"], days=10))[0]
    moment = timezone.now()
    activate(expired, second, at=moment)
    old.refresh_from_db()
    assert old.expires_at == moment + timedelta(days=10)


def test_a_usage_trial_gets_more_days_and_a_key_without_one_gets_one(catalog, key) -> None:
    coupon = make_coupons(CouponKind.TRIAL_EXTEND, Row(product=catalog["usage"], days=4))[0]

    activate(key, coupon)

    trial = key.lines.get(product=catalog["usage"])
    assert trial.is_trial
    assert trial.trial_days_added == 4
    assert trial.expires_at is None
    trial.used_days = 8
    trial.save()
    assert line_is_live(trial)
    trial.used_days = 9
    trial.save()
    assert not line_is_live(trial)

    more = make_coupons(CouponKind.TRIAL_EXTEND, Row(product=catalog["usage"], days=2))[0]
    activate(key, more)
    trial.refresh_from_db()
    assert trial.trial_days_added == 6
    assert line_is_live(trial)


def test_a_reusable_coupon_works_once_per_client(catalog, key) -> None:
    coupon = make_coupons(
        CouponKind.TRIAL_EXTEND, Row(product=catalog["base"], days=7), reusable=True
    )[0]
    activate(key, coupon)
    second_key = license_key_generate(client=key.client, actor=ACTOR)
    other_client_key = license_key_generate(client=make_client(company="ООО Лютик"), actor=ACTOR)

    refused(Code.COUPON_USED, key, coupon)
    refused(Code.COUPON_USED, second_key, coupon)
    activate(other_client_key, coupon)

    assert Activation.objects.filter(coupon=coupon).count() == 2
    coupon.refresh_from_db()
    assert coupon_state(coupon) == CouponState.REUSABLE


def test_every_refusal_has_its_code(catalog, key) -> None:
    coupon = make_coupons(CouponKind.NEW_PRODUCT, Row(product=catalog["pro"]))[0]
    unknown = keycodes.generate_coupon("DEMO")

    refused(Code.UNKNOWN_COUPON, key, unknown)
    refused(Code.UNKNOWN_COUPON, key, "DEMOUPD-12345")
    with pytest.raises(Refusal) as caught:
        activate(type(key)(number="DEMO-1"), coupon)
    assert caught.value.code == Code.MALFORMED_KEY
    with pytest.raises(Refusal) as caught:
        activate(type(key)(number=keycodes.generate_key("DEMO")), coupon)
    assert caught.value.code == Code.UNKNOWN_KEY

    coupons_set_blocked(coupons=Coupon.objects.filter(pk=coupon.pk), blocked=True, actor=ACTOR)
    refused(Code.COUPON_BLOCKED, key, coupon)
    coupons_set_blocked(coupons=Coupon.objects.filter(pk=coupon.pk), blocked=False, actor=ACTOR)

    activate(key, coupon)
    refused(Code.COUPON_USED, key, coupon)

    upgrade = make_coupons(CouponKind.UPGRADE, Row(product=catalog["pro"]), target_key=key)[0]
    other = license_key_generate(client=key.client, actor=ACTOR)
    refused(Code.KEY_NOT_OF_COUPON, other, upgrade)

    key_set_blocked(key=key, blocked=True, actor=ACTOR)
    refused(Code.KEY_BLOCKED, key, upgrade)
    assert AuditEvent.objects.filter(action="coupon.block").count() == 1


def test_an_upgrade_leaves_the_key_holding_exactly_the_after_list(catalog, key) -> None:
    first = make_coupons(CouponKind.NEW_PRODUCT, Row(product=catalog["pro"], multiplier=2))[0]
    activate(key, first)
    pro_line = key.lines.get(product=catalog["pro"], state=LineState.ACTIVE)
    usage_first = make_coupons(CouponKind.NEW_PRODUCT, Row(product=catalog["usage"]))[0]
    activate(key, usage_first)
    day = timezone.localdate() + timedelta(days=30)
    upgrade = make_coupons(
        CouponKind.UPGRADE,
        Row(
            product=catalog["pro"],
            multiplier=5,
            term=Term.FIXED_DATE,
            expires_at=day_end(day),
            key_line_id=pro_line.pk,
        ),
        Row(product=catalog["base"]),
        target_key=key,
    )[0]

    activate(key, upgrade)

    assert live(key) == [("Продукт 1", 1, False), ("Продукт 2", 5, False)]
    assert key.lines.get(product=catalog["usage"]).state == LineState.ENDED_BY_UPGRADE
    pro_line.refresh_from_db()
    assert pro_line.multiplier == 5
    assert timezone.localdate(pro_line.expires_at) == day


def test_deactivation_restores_the_exact_previous_lines(catalog, key) -> None:
    before = [(line.pk, line.state, line.expires_at) for line in key.lines.all()]
    coupon = make_coupons(CouponKind.NEW_PRODUCT, Row(product=catalog["pro"], multiplier=2))[0]
    activation = activate(key, coupon)

    activation_deactivate(activation=activation, actor=ACTOR)

    made = key.lines.get(product=catalog["pro"])
    assert made.state == LineState.REMOVED_BY_COUPON
    kept = [(line.pk, line.state, line.expires_at) for line in key.lines.exclude(pk=made.pk)]
    assert kept == before
    assert live(key) == [("Продукт 1", 1, True)]
    coupon.refresh_from_db()
    assert coupon.activated_at is None
    assert coupon_state(coupon) == CouponState.FREE
    activation.refresh_from_db()
    assert activation.deactivated_at is not None
    assert AuditEvent.objects.filter(action="coupon.deactivate").count() == 1
    activate(key, coupon)  # usable again
    with pytest.raises(ValidationError, match="undone already"):
        activation_deactivate(activation=activation, actor=ACTOR)


def test_deactivation_ends_the_newest_seats_beyond_the_restored_capacity(catalog, key) -> None:
    coupon = make_coupons(CouponKind.NEW_PRODUCT, Row(product=catalog["pro"], multiplier=2))[0]
    activation = activate(key, coupon)
    for user in ("a", "b", "c"):
        session_capture(key_number=key.number, feature_id=10, unit=Unit(user, "h"))

    activation_deactivate(activation=activation, actor=ACTOR)

    # The BASE trial is back: one USER seat of feature 10; the two newest end.
    sessions = {s.user: s for s in Session.objects.filter(key=key)}
    assert sessions["a"].ended_at is None
    assert sessions["b"].end_reason == sessions["c"].end_reason == EndReason.LICENSE_ENDED


def test_deactivation_is_refused_after_a_later_change_of_the_same_lines(catalog, key) -> None:
    first = make_coupons(CouponKind.NEW_PRODUCT, Row(product=catalog["pro"]))[0]
    activation = activate(key, first)
    pro_line = key.lines.get(product=catalog["pro"], state=LineState.ACTIVE)
    upgrade = make_coupons(
        CouponKind.UPGRADE,
        Row(product=catalog["pro"], multiplier=4, key_line_id=pro_line.pk),
        target_key=key,
    )[0]
    later = activate(key, upgrade)

    with pytest.raises(ValidationError, match="Продукт 2"):
        activation_deactivate(activation=activation, actor=ACTOR)
    assert live(key) == [("Продукт 2", 4, False)]

    activation_deactivate(activation=later, actor=ACTOR)
    activation_deactivate(activation=activation, actor=ACTOR)
    assert live(key) == [("Продукт 1", 1, True)]


def test_a_manual_edit_of_a_line_blocks_the_deactivation_that_made_it(catalog, key) -> None:
    activation = activate(key, make_coupons(CouponKind.NEW_PRODUCT, Row(product=catalog["pro"]))[0])
    line = key.lines.get(product=catalog["pro"], state=LineState.ACTIVE)

    changes = key_line_change(line=line, actor=ACTOR, multiplier=3, expires_at=None)

    assert changes[0]["before"]["multiplier"] == 1
    assert changes[0]["after"]["multiplier"] == 3
    event = AuditEvent.objects.get(action="key_line.change")
    assert event.after["lines"][0]["multiplier"] == 3
    with pytest.raises(ValidationError, match="manual edit"):
        activation_deactivate(activation=activation, actor=ACTOR)


def test_a_manager_makes_a_trial_line_a_purchase_with_a_new_expiry(catalog, key) -> None:
    trial = key.lines.get()
    expiry = timezone.now() + timedelta(days=365)

    key_line_change(line=trial, actor=ACTOR, multiplier=1, expires_at=expiry, purchased=True)

    trial.refresh_from_db()
    assert not trial.is_trial
    assert trial.expires_at == expiry
    with pytest.raises(ValidationError, match="allows a multiplier"):
        key_line_change(line=trial, actor=ACTOR, multiplier=2, expires_at=expiry)


def test_an_empty_key_with_an_upgrade_coupon_and_a_no_op_activation_can_be_deleted(
    catalog,
) -> None:
    empty = license_key_generate(client=make_client(company="ООО Лютик"), actor=ACTOR)
    coupon = make_coupons(CouponKind.UPGRADE, target_key=empty)[0]
    activation = activate(empty, coupon)
    assert activation.changes == []

    key_delete(key=empty, actor=ACTOR)

    coupon.refresh_from_db()
    assert coupon.batch.target_key is None
    assert coupon.activated_key is None
    assert not Activation.objects.exists()


def test_an_upgrade_row_naming_a_line_with_another_product_replaces_the_line(catalog, key) -> None:
    trial = key.lines.get()
    upgrade = make_coupons(
        CouponKind.UPGRADE, Row(product=catalog["pro"], key_line_id=trial.pk), target_key=key
    )[0]

    activate(key, upgrade)

    trial.refresh_from_db()
    assert trial.state == LineState.ENDED_BY_UPGRADE
    assert live(key) == [("Продукт 2", 1, False)]


def test_a_trial_a_purchase_ended_is_not_brought_back_by_a_trial_extension(catalog, key) -> None:
    activate(key, make_coupons(CouponKind.NEW_PRODUCT, Row(product=catalog["base"]))[0])
    extension = make_coupons(
        CouponKind.TRIAL_EXTEND, Row(product=catalog["base"], days=30), reusable=True
    )[0]

    with pytest.raises(ValidationError) as caught:
        activate(key, extension)

    assert "has no trial to extend" in " ".join(caught.value.messages)
    assert live(key) == [("Продукт 1", 1, False)]
    assert not Activation.objects.filter(coupon=extension).exists()


def test_a_used_single_use_coupon_is_refused_without_speaking_of_reuse(catalog, key) -> None:
    coupon = make_coupons(CouponKind.NEW_PRODUCT, Row(product=catalog["pro"]))[0]
    reusable = make_coupons(
        CouponKind.TRIAL_EXTEND, Row(product=catalog["usage"], days=2), reusable=True
    )[0]
    activate(key, coupon)
    activate(key, reusable)

    with pytest.raises(Refusal) as single:
        activate(key, coupon)
    with pytest.raises(Refusal) as again:
        activate(key, reusable)

    assert str(single.value.message) == "The coupon is already activated."
    assert str(again.value.message) == "This client has activated this reusable coupon already."
