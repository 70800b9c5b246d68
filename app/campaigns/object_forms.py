from datetime import datetime, timezone
from urllib.parse import urlparse
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateTimeLocalField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, ValidationError


def local_zone() -> ZoneInfo:
    return ZoneInfo(current_app.config.get("BABEL_DEFAULT_TIMEZONE") or "Europe/Paris")


def to_local(moment: datetime | None) -> datetime | None:
    """A stored UTC moment as the wall-clock time the form shows (naive, in the local zone)."""
    return moment.astimezone(local_zone()).replace(tzinfo=None) if moment else None


class ObjectForm(FlaskForm):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=200)])
    message = TextAreaField(_l("Message"), validators=[Optional(), Length(max=70_000)])
    link = StringField(_l("Link"), validators=[Optional(), Length(max=2000)])
    scheduled_at = DateTimeLocalField(_l("Publish at (Paris time)"), format="%Y-%m-%dT%H:%M",
                                      validators=[Optional()])
    # Choices: the campaign's scenarios the view offers (`set_targets`); rendered as checkboxes.
    targets = SelectMultipleField(_l("Target accounts"), coerce=int, choices=[])

    def set_targets(self, scenarios) -> "ObjectForm":
        self.targets.choices = [(s.id, s.social_account.label) for s in scenarios]
        return self

    def validate_link(self, field):
        if not field.data:
            return
        parsed = urlparse(field.data.strip())
        if parsed.scheme not in ("http", "https") or not parsed.netloc or " " in field.data.strip():
            raise ValidationError(_l("Enter a web address starting with http:// or https://."))

    def validate_targets(self, field):
        if not field.data:
            raise ValidationError(_l("Choose at least one account to publish to."))

    def validate_scheduled_at(self, field):
        if field.data and self.scheduled_utc() <= datetime.now(timezone.utc):
            raise ValidationError(_l("Choose a moment in the future."))

    def scheduled_utc(self) -> datetime | None:
        """The typed wall-clock time read in Paris (or the configured zone), as UTC."""
        if not self.scheduled_at.data:
            return None
        return self.scheduled_at.data.replace(tzinfo=local_zone()).astimezone(timezone.utc)
