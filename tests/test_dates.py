"""The shared reading of typed dates and times (app/dates.py): the post form, the calendar, the
campaign form and the library filters all go through it."""

import pytest


@pytest.mark.parametrize(
    "text, expected",
    [
        ("14/07/2027", (2027, 7, 14)),
        ("14.07.2027", (2027, 7, 14)),
        ("14-7-2027", (2027, 7, 14)),
        ("14072027", (2027, 7, 14)),
        ("2027-07-14", (2027, 7, 14)),
        (" 1 / 2 / 2027 ", (2027, 2, 1)),
        ("07/14/2027", None),
        ("14/07/27", None),
        ("demain", None),
    ],
)
def test_dates_are_read_day_first_and_leniently(text, expected):
    from datetime import date

    from app.dates import parse_date

    assert parse_date(text) == (date(*expected) if expected else None)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("09:30", (9, 30)),
        ("9:30", (9, 30)),
        ("9h30", (9, 30)),
        ("9h", (9, 0)),
        ("0930", (9, 30)),
        ("930", (9, 30)),
        ("9.30", (9, 30)),
        ("23:59", (23, 59)),
        ("24:00", None),
        ("9:7", None),
        ("midi", None),
    ],
)
def test_times_are_read_leniently(text, expected):
    from datetime import time

    from app.dates import parse_time

    assert parse_time(text) == (time(*expected) if expected else None)
