"""The cabinet's date boxes: «15.03.2025» and «15.03.2025 14:05» in the vendor's time zone."""

from datetime import UTC, date, datetime

import pytest
from django import forms
from django.utils import translation

from licentia.core.moments import DayField, MomentField, day_end, day_start


@pytest.fixture(autouse=True)
def moscow(settings) -> None:
    settings.TIME_ZONE = "Europe/Moscow"


class Moments(forms.Form):
    starts_at = MomentField()
    expires_at = MomentField(ends_day=True, required=False)
    invoice_date = DayField(required=False)


def cleaned(**data: str) -> dict:
    form = Moments(data=data)
    assert form.is_valid(), form.errors
    return form.cleaned_data


def test_a_date_alone_starts_the_vendors_day() -> None:
    assert cleaned(starts_at="15.03.2025")["starts_at"] == datetime(2025, 3, 14, 21, 0, tzinfo=UTC)


def test_a_date_alone_for_an_end_holds_through_the_last_instant_of_that_day() -> None:
    expires = cleaned(starts_at="01.03.2025", expires_at="15.03.2025")["expires_at"]

    assert expires == datetime(2025, 3, 15, 20, 59, 59, 999999, tzinfo=UTC)
    assert expires == day_end(date(2025, 3, 15))


def test_a_date_with_a_time_is_that_moment_of_the_vendors_clock() -> None:
    data = cleaned(starts_at="15.03.2025 14:05", expires_at=" 16.03.2025,  09:30:15 ")

    assert data["starts_at"] == datetime(2025, 3, 15, 11, 5, tzinfo=UTC)
    assert data["expires_at"] == datetime(2025, 3, 16, 6, 30, 15, tzinfo=UTC)


def test_iso_dates_are_taken_too() -> None:
    data = cleaned(starts_at="2025-03-15T14:05", expires_at="2025-03-15", invoice_date="2025-03-01")

    assert data["starts_at"] == datetime(2025, 3, 15, 11, 5, tzinfo=UTC)
    assert data["expires_at"] == day_end(date(2025, 3, 15))
    assert data["invoice_date"] == date(2025, 3, 1)


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("15.13.2025", "Введите дату в виде 15.03.2025 или дату и время в виде 15.03.2025 14:05."),
        (
            "15.03.2025 25:00",
            "Введите дату в виде 15.03.2025 или дату и время в виде 15.03.2025 14:05.",
        ),
        ("завтра", "Введите дату в виде 15.03.2025 или дату и время в виде 15.03.2025 14:05."),
        ("01.01.0001", "Введите год от 1900 до 2999."),
        ("31.12.9999 23:59", "Введите год от 1900 до 2999."),
    ],
)
def test_a_date_that_is_no_date_is_refused_in_russian(typed: str, message: str) -> None:
    with translation.override("ru"):
        form = Moments(data={"starts_at": typed})
        assert form.errors["starts_at"] == [message]


def test_a_day_box_refuses_a_time_and_a_typo_in_russian() -> None:
    with translation.override("ru"):
        form = Moments(data={"starts_at": "15.03.2025", "invoice_date": "15.03.2025 14:05"})
        assert form.errors["invoice_date"] == ["Введите дату в виде 15.03.2025."]


def test_a_stored_moment_shows_as_it_would_be_typed() -> None:
    form = Moments(
        initial={
            "starts_at": day_start(date(2025, 3, 15)),
            "expires_at": day_end(date(2025, 4, 1)),
            "invoice_date": "2025-02-28",
        }
    )

    assert form["starts_at"].value() == "15.03.2025"
    assert form["expires_at"].value() == "01.04.2025"
    assert form["invoice_date"].value() == "28.02.2025"
    moment = datetime(2025, 3, 15, 11, 5, tzinfo=UTC)
    assert Moments(initial={"starts_at": moment, "expires_at": moment})["expires_at"].value() == (
        "15.03.2025 14:05"
    )
    exact = datetime(2025, 3, 15, 11, 5, 7, tzinfo=UTC)
    assert Moments(initial={"starts_at": exact})["starts_at"].value() == "15.03.2025 14:05:07"


def test_an_unchanged_box_is_not_a_change() -> None:
    stored = day_end(date(2025, 4, 1))
    form = Moments(
        data={"starts_at": "15.03.2025", "expires_at": "01.04.2025"},
        initial={"starts_at": day_start(date(2025, 3, 15)), "expires_at": stored},
    )

    assert form.changed_data == []


def test_the_box_has_a_calendar_button_and_none_of_the_admins_time_zone_classes() -> None:
    with translation.override("ru"):
        html = str(Moments()["expires_at"])

    assert 'class="lc-moment-button' in html
    assert 'type="date"' in html
    assert 'placeholder="дд.мм.гггг чч:мм"' in html
    assert "vDateField" not in html
    assert "vTimeField" not in html
