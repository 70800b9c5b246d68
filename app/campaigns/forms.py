from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectMultipleField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from app.dates import DayFirstDateField


class CampaignForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=5000)])
    starts_on = DayFirstDateField(_l("Start date"), validators=[Optional()])
    ends_on = DayFirstDateField(_l("End date"), validators=[Optional()])
    # Choices are the accounts the view offers (`set_accounts`); rendered as checkboxes.
    accounts = SelectMultipleField(_l("Target accounts"), coerce=int, choices=[])
    # A Teams Workflows webhook ("When a Teams webhook request is received"): cards go to that channel.
    teams_webhook_url = StringField(
        _l("Teams channel webhook (optional)"),
        validators=[Optional(), Length(max=2000)],
        description=_l(
            "Paste the address of a Teams Workflows webhook: review, approval and publication cards are posted to that channel."
        ),
    )

    def set_accounts(self, accounts) -> "CampaignForm":
        self.accounts.choices = [(account.id, account.label) for account in accounts]
        return self

    def validate_teams_webhook_url(self, field):
        from urllib.parse import urlsplit

        if field.data and (urlsplit(field.data.strip()).scheme != "https" or not urlsplit(field.data.strip()).hostname):
            raise ValidationError(_l("Give the full https:// address Teams showed for the webhook."))

    def validate_ends_on(self, field):
        if field.data and self.starts_on.data and field.data < self.starts_on.data:
            raise ValidationError(_l("The end date must be on or after the start date."))
