from hypothesis import given
from hypothesis import strategies as st

from licentia.core import keycodes

bodies = st.text(alphabet=keycodes.ALPHABET, min_size=19, max_size=19).map(
    lambda head: head + keycodes.check_symbol(head)
)


@given(bodies)
def test_a_generated_body_is_valid(body: str) -> None:
    assert keycodes.body_is_valid(body)


@given(bodies, st.integers(0, 19), st.sampled_from(keycodes.ALPHABET))
def test_every_single_substitution_is_detected(body: str, position: int, symbol: str) -> None:
    if body[position] == symbol:
        return
    typo = body[:position] + symbol + body[position + 1 :]

    assert not keycodes.body_is_valid(typo)


@given(bodies, st.integers(0, 18))
def test_every_adjacent_transposition_is_detected(body: str, position: int) -> None:
    if body[position] == body[position + 1]:
        return
    swapped = body[:position] + body[position + 1] + body[position] + body[position + 2 :]

    assert not keycodes.body_is_valid(swapped)


def test_a_key_is_read_in_any_formatting_with_look_alikes() -> None:
    key = keycodes.generate_key("DEMO")
    body = key.replace("-", "")[4:]
    sloppy = " " + key.lower().replace("-", " ").replace("0", "o").replace("1", "l") + " "

    assert keycodes.parse_code(sloppy, prefix_length=4) == ("DEMO", body)
    assert keycodes.parse_code(key.replace("-", ""), prefix_length=4) == ("DEMO", body)


def test_a_key_has_the_documented_shape() -> None:
    key = keycodes.generate_key("ACME")

    prefix, *groups = key.split("-")
    assert prefix == "ACME"
    assert [len(group) for group in groups] == [5, 5, 5, 5]
    assert set("".join(groups)) <= set(keycodes.ALPHABET)


def test_a_mistyped_or_foreign_code_is_malformed() -> None:
    assert keycodes.parse_code("DEMO-12345", prefix_length=4) is None
    assert keycodes.parse_code("", prefix_length=4) is None
    assert keycodes.parse_code("ДЕМО-" + "0" * 20, prefix_length=4) is None


def test_a_coupon_code_carries_the_upd_mark_and_the_same_check() -> None:
    code = keycodes.generate_coupon("DEMO")

    assert code.startswith("DEMOUPD-")
    prefix_length = keycodes.PREFIX_LENGTH + len(keycodes.COUPON_INFIX)
    assert keycodes.parse_code(code.lower(), prefix_length=prefix_length) is not None
    assert (
        keycodes.parse_code(code[:-1] + ("0" if code[-1] != "0" else "1"), prefix_length=7) is None
    )
