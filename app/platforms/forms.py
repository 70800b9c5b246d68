from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional, Regexp, ValidationError

from app.integrations import blueprints
from app.labels import PLATFORM_LABELS, platform_label
from app.models import Platform
from app.platforms.identifiers import identifier_problem

POSITIVE_INTEGER = r"^[1-9][0-9]{0,17}$"


def _strip(value):
    return value.strip() if isinstance(value, str) else value


def platform_choices():
    return [("", _l("Choose a network"))] + [(p.value, PLATFORM_LABELS[p]) for p in Platform]


class AccountForm(FlaskForm):
    """An account's settings; the network is chosen once, at creation (`NewAccountForm`)."""

    label = StringField(_l("Label"), validators=[DataRequired(), Length(max=120)])
    make_connection_id = StringField(
        _l("Make connection id"),
        filters=[_strip],
        validators=[
            DataRequired(),
            Regexp(
                POSITIVE_INTEGER,
                message=_l("Enter the connection's number as Make shows it: a positive integer, e.g. 77."),
            ),
        ],
    )
    account_identifier = StringField(
        _l("Account identifier"), filters=[_strip], validators=[DataRequired(), Length(max=120)]
    )
    template_scenario_id = StringField(
        _l("Template scenario id (optional)"),
        filters=[_strip],
        validators=[
            Optional(),
            Regexp(POSITIVE_INTEGER, message=_l("Enter a scenario number (a positive integer), or leave it empty.")),
        ],
    )

    platform_value: Platform | None = None  # the network the identifier is checked against

    def validate_account_identifier(self, field):
        if self.platform_value is not None and field.data:
            problem = identifier_problem(self.platform_value, field.data)
            if problem:
                raise ValidationError(problem)

    def validate(self, extra_validators=None):
        valid = super().validate(extra_validators)
        platform = self.platform_value
        if platform is not None and not self.template_scenario_id.data and blueprints.requires_template(platform.value):
            self.template_scenario_id.errors = list(self.template_scenario_id.errors) + [
                _l(
                    "%(network)s needs a template scenario: no public Make scenario shows a Make "
                    "module that publishes there, so the CMS ships none. Build the publishing step "
                    "in a Make scenario with your own connection, following the starter blueprints, "
                    "and enter that scenario's number here.",
                    network=platform_label(platform),
                )
            ]
            return False
        return valid


class NewAccountForm(AccountForm):
    platform = SelectField(
        _l("Network"), choices=platform_choices, validators=[DataRequired(message=_l("Choose the network."))]
    )

    def validate(self, extra_validators=None):
        valid = self.platform.data in {p.value for p in Platform}
        self.platform_value = Platform(self.platform.data) if valid else None
        return super().validate(extra_validators)


class ActiveForm(FlaskForm):
    active = HiddenField(validators=[DataRequired()])
