from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, RadioField, SelectChoice, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length
from wtforms.widgets import CheckboxInput, ListWidget


class ChangesForm(FlaskForm):
    comment = TextAreaField(
        _l("What should change?"),
        validators=[
            DataRequired(message=_l("A comment is required: say what should change, the editor will read it.")),
            Length(max=2000),
        ],
    )


class StepForm(FlaskForm):
    """A step of a campaign's approval chain (docs/approval-chains.md)."""

    name = StringField(
        _l("Step name"), validators=[DataRequired(message=_l("Name the step, for example “Legal”.")), Length(max=120)]
    )
    rule = RadioField(
        _l("Who must approve"),
        default="any",
        choices=[SelectChoice("any", _l("Any one of them")), SelectChoice("all", _l("All of them"))],
    )
    role = SelectField(
        _l("Everyone with the role"),
        default="",
        choices=[
            SelectChoice("", _l("Nobody by role")),
            SelectChoice("approver", _l("Approvers")),
            SelectChoice("admin", _l("Admins")),
        ],
    )
    users = SelectMultipleField(
        _l("Named approvers"),
        coerce=int,
        validate_choice=False,
        widget=ListWidget(prefix_label=False),
        option_widget=CheckboxInput(),
    )

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        if ok and not self.role.data and not self.users.data:
            self.users.errors.append(_l("Choose at least one approver, or a role."))
            return False
        return ok


class ChainSettingsForm(FlaskForm):
    expires_at_schedule = BooleanField(
        _l(
            "An approval expires at the scheduled moment: a post not published "
            "by then, or moved later, needs a new decision"
        )
    )
