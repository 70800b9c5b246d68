from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import TextAreaField
from wtforms.validators import DataRequired, Length


class ChangesForm(FlaskForm):
    comment = TextAreaField(_l("What should change?"), validators=[
        DataRequired(message=_l("A comment is required: say what should change, the editor will read it.")), Length(max=2000)])
