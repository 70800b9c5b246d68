"""Dates and times as people type and read them, the one place forms and filters parse them.

A native date input shows "mm/dd/yyyy" to a browser set to US English whatever the page's
language, so the CMS uses text inputs in the order French (and British) readers write dates:
day first, shown as `14/07/2027` in both languages, with a visible hint and a numeric keypad
on phones (`app/templates/_macros.html`, `date_input`). What phones and hands type is
accepted: 14/07/2027, 14.07.2027, 14-07-2027, 14072027, 2027-07-14 (ISO, as shared links
carry it); 9:30, 09h30, 9h, 0930.
"""

import re
from datetime import date, time

from flask_babel import lazy_gettext as _l
from wtforms import Field
from wtforms.widgets import TextInput

DATE_FORMAT = "%d/%m/%Y"
TIME_FORMAT = "%H:%M"
DATE_ERROR = _l("Enter the date as DD/MM/YYYY, for example 14/07/2027.")
_DAY_FIRST = re.compile(r"(\d{1,2})\s*[/.\- ]\s*(\d{1,2})\s*[/.\- ]\s*(\d{4})")
_ISO = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")
_TIME = re.compile(r"(\d{1,2})\s*(?:[:hH.]\s*(\d{2})?)?")


def parse_date(text: str) -> date | None:
    """The day a person typed (day first) or a link carries (ISO); None when not a real day."""
    text = text.strip()
    if re.fullmatch(r"\d{8}", text):
        text = f"{text[:2]}/{text[2:4]}/{text[4:]}"
    try:
        if match := _DAY_FIRST.fullmatch(text):
            day, month, year = map(int, match.groups())
            return date(year, month, day)
        if match := _ISO.fullmatch(text):
            return date(*map(int, match.groups()))
    except ValueError:
        return None
    return None


def parse_time(text: str) -> time | None:
    text = text.strip()
    if re.fullmatch(r"\d{3,4}", text):
        text = f"{text[:-2]}:{text[-2:]}"
    match = _TIME.fullmatch(text)
    if not match:
        return None
    try:
        return time(int(match.group(1)), int(match.group(2) or 0))
    except ValueError:
        return None


def format_date(day: date | None) -> str:
    """A day as the date fields show it (day first)."""
    return day.strftime(DATE_FORMAT) if day else ""


class DayFirstDateField(Field):
    """A form's date as a day-first text field: `data` is a date (None when empty); what was
    typed stays in the field, with the error, when it is not a date. Rendered by the
    `date_field` macro (`app/templates/_macros.html`)."""

    widget = TextInput()

    def process_formdata(self, valuelist):
        if not valuelist:
            return
        self.raw_data = valuelist
        text = valuelist[0].strip()
        self.data = parse_date(text) if text else None
        if text and self.data is None:
            raise ValueError(str(DATE_ERROR))

    def _value(self):
        if self.raw_data:
            return self.raw_data[0]
        return format_date(self.data)
