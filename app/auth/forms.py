from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, HiddenField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, Email, EqualTo, Length

from app.auth.passwords import MAX_LENGTH, MIN_LENGTH
from app.labels import ROLE_LABELS
from app.models import Role


def role_choices():
    return [(r.value, ROLE_LABELS[r]) for r in Role]


class LoginForm(FlaskForm):
    email = EmailField(_l("E-mail address"), validators=[DataRequired(), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=MAX_LENGTH)])
    next = HiddenField()


class InviteForm(FlaskForm):
    email = EmailField(
        _l("E-mail address"), validators=[DataRequired(), Email(check_deliverability=False), Length(max=254)]
    )
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=120)])
    role = SelectField(_l("Role"), choices=role_choices, default=Role.EDITOR.value)


class RoleForm(FlaskForm):
    role = SelectField(_l("Role"), choices=role_choices)


class ActiveForm(FlaskForm):
    active = HiddenField(validators=[DataRequired()])


class PasswordForm(FlaskForm):
    password = PasswordField(
        _l("New password"),
        validators=[
            DataRequired(),
            Length(
                min=MIN_LENGTH,
                max=MAX_LENGTH,
                message=_l("Between %(min)d and %(max)d characters.", min=MIN_LENGTH, max=MAX_LENGTH),
            ),
        ],
    )
    confirm = PasswordField(
        _l("Confirm the password"),
        validators=[DataRequired(), EqualTo("password", message=_l("The two passwords differ."))],
    )
