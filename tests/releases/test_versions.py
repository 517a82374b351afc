"""Versions compare as dotted numbers, never as text."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from licentia.releases.versions import in_range, is_version, version_key

parts = st.lists(st.integers(min_value=0, max_value=10**6), min_size=1, max_size=6)


def dotted(numbers: list[int]) -> str:
    return ".".join(str(number) for number in numbers)


def test_4_0_10_comes_after_4_0_9() -> None:
    assert version_key("4.0.10") > version_key("4.0.9")
    assert "4.0.10" < "4.0.9"  # as text it would not


def test_trailing_zero_parts_change_nothing_and_a_further_part_comes_later() -> None:
    assert version_key("4.0") == version_key("4.0.0") == version_key("4")
    assert version_key("4.0.0.1") > version_key("4.0")


@given(parts, parts)
def test_versions_order_as_their_number_lists_do(a: list[int], b: list[int]) -> None:
    width = max(len(a), len(b))
    padded_a, padded_b = a + [0] * (width - len(a)), b + [0] * (width - len(b))
    assert (version_key(dotted(a)) < version_key(dotted(b))) == (padded_a < padded_b)
    assert (version_key(dotted(a)) == version_key(dotted(b))) == (padded_a == padded_b)


@given(parts, st.integers(min_value=0, max_value=10**6))
def test_raising_any_part_makes_a_later_version(numbers: list[int], index: int) -> None:
    raised = list(numbers)
    raised[index % len(raised)] += 1
    assert version_key(dotted(raised)) > version_key(dotted(numbers))


@given(parts, st.integers(min_value=1, max_value=4))
def test_appending_zero_parts_gives_the_same_version(numbers: list[int], zeros: int) -> None:
    assert version_key(dotted(numbers + [0] * zeros)) == version_key(dotted(numbers))


@given(parts)
def test_leading_zeros_in_a_part_are_the_same_number(numbers: list[int]) -> None:
    assert version_key(".".join(f"00{number}" for number in numbers)) == version_key(
        dotted(numbers)
    )


@pytest.mark.parametrize("text", ["", "4.", ".4", "4..0", "v4.0", "4.0-beta", "4,0", "4.0\n"])
def test_what_is_not_dotted_numbers_is_no_version(text: str) -> None:
    assert not is_version(text)
    with pytest.raises(ValueError, match="not a dotted version"):
        version_key(text)


def test_a_range_with_an_empty_bound_is_open_on_that_side() -> None:
    assert in_range("3.0.5", "3.0", "")
    assert in_range("1.0", "", "3.0")
    assert in_range("3.0.10", "3.0.2", "3.0.10")
    assert not in_range("3.0.11", "3.0.2", "3.0.10")
