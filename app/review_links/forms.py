from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Email, Length, NumberRange, Optional

from app.review_links.service import MAX_DAYS


class NewLinkForm(FlaskForm):
    name = StringField(
        _l("Reviewer's name"), validators=[DataRequired(message=_l("Give the reviewer's name.")), Length(max=120)]
    )
    email = EmailField(
        _l("Reviewer's e-mail"),
        validators=[
            DataRequired(message=_l("Give the reviewer's e-mail address.")),
            Email(message=_l("This is not an e-mail address.")),
            Length(max=254),
        ],
    )
    days = IntegerField(
        _l("Valid for (days)"),
        validators=[Optional(), NumberRange(min=1, max=MAX_DAYS, message=_l("From 1 to %(max)d days.", max=MAX_DAYS))],
    )
    # In a campaign with an approval chain: the step this person approves (docs/approval-chains.md).
    step = SelectField(_l("Approves the step"), coerce=int, validate_choice=False, validators=[Optional()])


class DecisionForm(FlaskForm):
    name = StringField(
        _l("Your name"),
        validators=[DataRequired(message=_l("Give your name: the editor will see who decided.")), Length(max=120)],
    )
    comment = TextAreaField(_l("Comment"), validators=[Optional(), Length(max=2000)])


class ChangesForm(DecisionForm):
    comment = TextAreaField(
        _l("Comment"),
        validators=[
            DataRequired(message=_l("Say what should change: the editor will read your comment.")),
            Length(max=2000),
        ],
    )
