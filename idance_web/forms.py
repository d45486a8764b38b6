"""Forms: field definitions and CSRF. Rules that need the database live in the services."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (BooleanField, EmailField, HiddenField, IntegerField, PasswordField,
                     SelectField, StringField, TextAreaField)
from wtforms.validators import DataRequired, Length, Optional


class SignupForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired("Enter your email."), Length(max=254)])
    username = StringField("Username", validators=[DataRequired("Choose a username.")],
                           description="3–30 lowercase letters, digits, - or _. Your site will be at /@username.")
    display_name = StringField("Display name",
                               validators=[DataRequired("Enter your name."), Length(max=80)])
    password = PasswordField("Password", validators=[DataRequired("Choose a password.")],
                             description="At least 10 characters.")


class LoginForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired("Enter your email.")])
    password = PasswordField("Password", validators=[DataRequired("Enter your password.")])
    next = HiddenField()


class PasswordForm(FlaskForm):
    current_password = PasswordField("Current password", validators=[DataRequired("Enter your current password.")])
    new_password = PasswordField("New password", validators=[DataRequired("Choose a new password.")],
                                 description="At least 10 characters. Signs out your other sessions.")


class EmailForm(FlaskForm):
    email = EmailField("New email", validators=[DataRequired("Enter an email."), Length(max=254)])
    password = PasswordField("Password", validators=[DataRequired("Confirm with your password.")])


class DeleteForm(FlaskForm):
    confirm = StringField("Type your username to confirm", validators=[DataRequired("Type your username.")])
    password = PasswordField("Password")
    really = BooleanField("I understand my profile, site, vlogs and messages disappear.",
                          validators=[DataRequired("Tick the box to confirm.")])


class EmptyForm(FlaskForm):
    """A form with only the CSRF token (sign out, revoke a session)."""


def attach_errors(form: FlaskForm, errors: dict[str, str]) -> None:
    """Put service errors next to their fields (unknown fields go on the form itself)."""
    for name, message in errors.items():
        field = getattr(form, name, None)
        if field is not None and hasattr(field, "errors"):
            field.errors = [*field.errors, message] if isinstance(field.errors, list) else [message]
        else:
            form.form_errors.append(message)


# -- discovery ---------------------------------------------------------------------------------

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
