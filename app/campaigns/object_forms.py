from datetime import datetime, timezone
from urllib.parse import urlparse
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectMultipleField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, ValidationError

# The date and the time are day-first text fields read by the shared parser (the calendar
# imports these names from here too).
from app.dates import DATE_ERROR, DATE_FORMAT, TIME_FORMAT, parse_date, parse_time


def local_zone() -> ZoneInfo:
    return ZoneInfo(current_app.config.get("BABEL_DEFAULT_TIMEZONE") or "Europe/Paris")


def to_local(moment: datetime | None) -> datetime | None:
    """A stored UTC moment as the wall-clock time the form shows (naive, in the local zone)."""
    return moment.astimezone(local_zone()).replace(tzinfo=None) if moment else None


def link_error(value: str | None):
    """Why a post's link (the base's or a network's own) is refused; None when it is fine or empty."""
    if not value:
        return None
    parsed = urlparse(value.strip())
    if parsed.scheme not in ("http", "https") or not parsed.netloc or " " in value.strip():
        return _l("Enter a web address starting with http:// or https://.")
    return None


class ObjectForm(FlaskForm):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=200)])
    message = TextAreaField(_l("Message"), validators=[Optional(), Length(max=70_000)])
    link = StringField(_l("Link"), validators=[Optional(), Length(max=2000)])
    scheduled_date = StringField(
        _l("Publication date"),
        validators=[Length(max=20)],
        render_kw={"inputmode": "numeric", "autocomplete": "off", "placeholder": _l("DD/MM/YYYY")},
    )
    scheduled_time = StringField(
        _l("Time (Paris)"),
        validators=[Length(max=10)],
        render_kw={"inputmode": "numeric", "autocomplete": "off", "placeholder": _l("HH:MM")},
    )
    # Choices: the campaign's scenarios the view offers (`set_targets`); rendered as checkboxes.
    targets = SelectMultipleField(_l("Target accounts"), coerce=int, choices=[])

    def set_targets(self, scenarios) -> "ObjectForm":
        self.targets.choices = [(s.id, s.social_account.label) for s in scenarios]
        return self

    def validate_link(self, field):
        if problem := link_error(field.data):
            raise ValidationError(problem)

    def validate_targets(self, field):
        if not field.data:
            raise ValidationError(_l("Choose at least one account to publish to."))

    def set_schedule(self, moment: datetime | None) -> "ObjectForm":
        """Show a stored UTC moment as the local date and time the editor types."""
        local = to_local(moment)
        self.scheduled_date.data = local.strftime(DATE_FORMAT) if local else ""
        self.scheduled_time.data = local.strftime(TIME_FORMAT) if local else ""
        return self

    def validate_scheduled_date(self, field):
        if field.data and parse_date(field.data) is None:
            raise ValidationError(DATE_ERROR)
        if not field.data and self.scheduled_time.data:
            raise ValidationError(_l("Enter the date as well as the time."))
        moment = self.scheduled_utc()
        if moment and moment <= datetime.now(timezone.utc):
            raise ValidationError(_l("Choose a moment in the future."))

    def validate_scheduled_time(self, field):
        if field.data and parse_time(field.data) is None:
            raise ValidationError(_l("Enter the time as HH:MM, for example 09:30."))
        if not field.data and self.scheduled_date.data:
            raise ValidationError(_l("Enter the time as well as the date."))

    def scheduled_utc(self) -> datetime | None:
        """The typed wall-clock date and time read in Paris (or the configured zone), as UTC;
        None when empty or not understood (the validators say why)."""
        day = parse_date(self.scheduled_date.data or "")
        at = parse_time(self.scheduled_time.data or "")
        if day is None or at is None:
            return None
        return datetime.combine(day, at, tzinfo=local_zone()).astimezone(timezone.utc)
