"""Sign-up, sign-in and account settings."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, HiddenField, PasswordField, StringField
from wtforms.validators import DataRequired, Length


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


class OAuthEmailForm(FlaskForm):
    """The email a provider did not give (Facebook may not)."""

    email = EmailField("Email", validators=[DataRequired("Enter your email."), Length(max=254)])


class ForgotForm(FlaskForm):
    """The address a password link is sent to."""

    email = EmailField("Email", validators=[DataRequired("Enter your email."), Length(max=254)])


class ResetForm(FlaskForm):
    """A new password, typed twice (she cannot see what she types)."""

    password = PasswordField("New password", validators=[DataRequired("Choose a password.")],
                             description="At least 10 characters. Signs out every session.")
    confirm = PasswordField("New password again",
                            validators=[DataRequired("Type the password again.")])
