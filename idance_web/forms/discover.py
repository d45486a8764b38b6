"""Discovery's filters and the report form."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import HiddenField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional
from werkzeug.exceptions import BadRequest

from ..services.social import REPORT_REASONS


def _blank_to_none(value):
    return None if value in ("", None) else value


class DiscoverForm(FlaskForm):
    """The discovery filters: a GET form, so a search is a shareable address."""

    class Meta:
        csrf = False

    radius_km = IntegerField("Within (km)", default=50)
    style = SelectField("Dance style", choices=[], default="")
    level = SelectField("Level in that style", choices=[], default="")
    role = SelectField("Role in that style", choices=[], default="")
    looking_for = SelectField("Looking for", choices=[], default="")
    age_min = IntegerField("Age from", filters=[_blank_to_none], validators=[Optional()])
    age_max = IntegerField("Age to", filters=[_blank_to_none], validators=[Optional()])
    height_min = IntegerField("Height from (cm)", filters=[_blank_to_none], validators=[Optional()])
    height_max = IntegerField("Height to (cm)", filters=[_blank_to_none], validators=[Optional()])
    travel_city = HiddenField()
    travel_query = StringField("Travel to (VIP)", validators=[Length(max=100)])
    after = HiddenField()


class ReportForm(FlaskForm):
    reason = SelectField("Reason", choices=[], validators=[DataRequired("Choose a reason.")])
    note = TextAreaField("What happened (optional)", validators=[Length(max=1000)])

    @classmethod
    def offered(cls) -> "ReportForm":
        """The form with its reasons, under the ``report-`` prefix pages use."""
        form = cls(prefix="report")
        form.reason.choices = list(REPORT_REASONS.items())
        return form

    def problem(self) -> str | None:
        """None when the submitted report is valid, else what is wrong, in one sentence; a
        missing or wrong CSRF token is a ``BadRequest``."""
        if self.validate_on_submit():
            return None
        if self.csrf_token.errors:
            raise BadRequest()
        return " ".join(e for errs in self.errors.values() for e in errs)
