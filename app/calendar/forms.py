from datetime import datetime, timezone

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, StringField
from wtforms.validators import DataRequired, Length, ValidationError

from app.campaigns.object_forms import DATE_FORMAT, TIME_FORMAT, local_zone, parse_date, parse_time


class MoveForm(FlaskForm):
    """The new moment of a post, typed (the "Move" control) or given by a drop on a day (the
    day in ISO form, the post's own time kept); `confirm` is set by the confirmation step."""

    date = StringField(
        _l("New date"),
        validators=[DataRequired(), Length(max=20)],
        render_kw={"inputmode": "numeric", "autocomplete": "off", "placeholder": _l("DD/MM/YYYY")},
    )
    time = StringField(
        _l("Time (Paris)"),
        validators=[DataRequired(), Length(max=10)],
        render_kw={"inputmode": "numeric", "autocomplete": "off", "placeholder": _l("HH:MM")},
    )
    back = HiddenField()
    confirm = HiddenField()

    def validate_date(self, field):
        if parse_date(field.data or "") is None:
            raise ValidationError(_l("Enter the date as DD/MM/YYYY, for example 14/07/2027."))

    def validate_time(self, field):
        if parse_time(field.data or "") is None:
            raise ValidationError(_l("Enter the time as HH:MM, for example 09:30."))

    def set_moment(self, moment: datetime | None) -> "MoveForm":
        if moment is not None:
            local = moment.astimezone(local_zone())
            self.date.data, self.time.data = local.strftime(DATE_FORMAT), local.strftime(TIME_FORMAT)
        return self

    def moment(self) -> datetime:
        """The typed wall-clock moment read in Paris, as UTC (after `validate`)."""
        return datetime.combine(parse_date(self.date.data), parse_time(self.time.data), tzinfo=local_zone()).astimezone(
            timezone.utc
        )

    def normalise(self) -> "MoveForm":
        """Shown back in the reader's form (a drop sends the day as 2027-07-14)."""
        return self.set_moment(self.moment())
