"""The set-up's step forms: the profile editor's own fields, one step at a time.

The picture step posts the profile editor's ``ProfileImageForm`` as it is.
"""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import FormField, HiddenField, StringField, SubmitField

from .core import LastFilledField, Rows
from .profile import MAX_ROWS, StyleRow, offer_styles


class CityStepForm(FlaskForm):
    """Her city: the type-ahead's text and the id it sets (as in the profile editor)."""

    error_aliases = {"city": "city_query"}  # the service's name → the field she types in

    city_query = StringField("City", description="Others see your city, never your address.")
    city_id = LastFilledField()


class StylesStepForm(FlaskForm):
    """Her dance styles, each with her level and role (the profile editor's rows)."""

    styles = Rows(FormField(StyleRow), "Your dance styles", key="style", max_entries=MAX_ROWS,
                  description="Each style with your level and role. Add more in your profile "
                              "later.")

    def offer(self, options: dict) -> None:
        offer_styles(self.styles, options)


class StarterForm(FlaskForm):
    """A starter layout, published at once or opened in the site editor first."""

    layout = HiddenField()
    publish = SubmitField("Publish it now")
    edit = SubmitField("Edit it first", render_kw={"class": "secondary"})
