from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, TextAreaField
from wtforms.validators import DataRequired, Length

from app.comments.service import MAX_LENGTH


class CommentForm(FlaskForm):
    body = TextAreaField(
        _l("Your message"),
        validators=[
            DataRequired(message=_l("Write something before sending.")),
            Length(max=MAX_LENGTH, message=_l("At most %(max)d characters.", max=MAX_LENGTH)),
        ],
    )
    # Where to go back without JavaScript (a path of this site only).
    next = HiddenField()
