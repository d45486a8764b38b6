"""Starting a group and editing its details."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import RadioField, SelectField, SelectMultipleField, StringField, TextAreaField

from ..services.groups import JOIN_MODES, KINDS, VISIBILITIES
from .core import LastFilledField, choices, grouped, image_field, strip

IMAGE_SLOTS = {"logo": "Logo", "cover": "Cover image"}


class GroupForm(FlaskForm):
    """The group's details, its logo and cover; the address only when creating it."""

    error_aliases = {"city": "city_query"}

    kind = SelectField("Kind", choices=choices(KINDS.items()), validate_choice=False)
    name = StringField("Name", render_kw={"maxlength": 100, "required": True})
    slug = StringField(
        "Address", filters=[strip],
        description="Its site will be at /g/address: 3–50 lowercase letters, digits and "
                    "dashes. It cannot change later.",
        render_kw={"maxlength": 50, "required": True, "autocapitalize": "none",
                   "spellcheck": "false"})
    description = TextAreaField("Description",
                                description="Markdown: **bold**, *italic*, [links](https://…)",
                                render_kw={"rows": 6})
    logo = image_field(IMAGE_SLOTS["logo"])
    cover = image_field(IMAGE_SLOTS["cover"])
    city_query = StringField("City")
    city_id = LastFilledField()
    styles = SelectMultipleField("Dance styles", description="Choose several with Ctrl or ⌘.",
                                 validate_choice=False, render_kw={"size": 8})
    join_mode = RadioField("How people join", choices=choices(JOIN_MODES.items()),
                           validate_choice=False)
    visibility = RadioField("Who finds it", choices=choices(VISIBILITIES.items()),
                            validate_choice=False)

    def offer(self, options: dict) -> None:
        """Fill the choices read from the database."""
        self.styles.choices = grouped(options["families"])
