"""The profile editor: the whole profile in one form, and the avatar and cover forms."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (BooleanField, Form, FormField, StringField, SubmitField,
                     TextAreaField)
from wtforms.widgets import DateInput

from ..media import MAX_ALT_CHARS
from ..services.options import LEVELS, ROLES
from ..services.profiles import LOOKING_FOR, MEASUREMENTS
from .core import ChoiceField, LastFilledField, MultiCheckboxField, Rows, choices, grouped, strip

MAX_ROWS = 50  # rows read of a repeated group; the service caps what may be kept
NUMERIC = {"inputmode": "numeric"}


class StyleRow(Form):
    style = ChoiceField("Style", validate_choice=False)
    level = ChoiceField("Level", choices=choices((v, v.capitalize()) for v in LEVELS),
                        validate_choice=False)
    role = ChoiceField("Role", choices=choices((v, v.capitalize()) for v in ROLES),
                       default="both", validate_choice=False)


class LinkRow(Form):
    platform = ChoiceField("Platform", validate_choice=False)
    handle = StringField("Handle", filters=[strip],
                         render_kw={"placeholder": "handle or https://…"})


def offer_styles(rows: Rows, options: dict) -> None:
    """Fill style rows' choices (by family) and add blank rows to fill in."""
    rows.pad()
    styles = grouped(options["families"], blank="— style —")
    for row in rows:
        row.style.choices = styles


# Inputs m_chest_cm, m_waist_cm …: one per measurement the profile keeps.
MeasurementsForm = type("MeasurementsForm", (Form,), {
    key: StringField(label, filters=[strip], render_kw=NUMERIC)
    for key, label in MEASUREMENTS.items()})


class ProfileForm(FlaskForm):
    """Everything of her profile but the pictures; the service checks it."""

    # The service names the city "city"; here it is the text she types.
    error_aliases = {"city": "city_query"}

    display_name = StringField("Display name", render_kw={"maxlength": 80, "required": True})
    pronouns = StringField("Pronouns (optional)", render_kw={"maxlength": 40})
    bio = TextAreaField("Bio", description="Markdown: **bold**, *italic*, [links](https://…)",
                        render_kw={"rows": 6})
    styles = Rows(FormField(StyleRow), "Dance styles", key="style", max_entries=MAX_ROWS,
                  description="Each style with your level and role.")
    looking_for = MultiCheckboxField("Looking for", choices=choices(LOOKING_FOR.items()),
                                     validate_choice=False)
    interests = MultiCheckboxField("Interests", validate_choice=False)
    city_query = StringField("City", description="Others see your city, never your address. "
                                                 "Clear the field to remove it.")
    city_id = LastFilledField()
    height_cm = StringField("Height in cm (shown on your profile)", filters=[strip],
                            render_kw=NUMERIC)
    birth_date = StringField(
        "Date of birth (private)", filters=[strip], widget=DateInput(),
        description="Discovery, likes, matches and chat are for dancers aged 18 and over with "
                    "a date of birth set. Your profile, site and groups are yours at any age.")
    m = FormField(MeasurementsForm, "Measurements", separator="_")
    links = Rows(FormField(LinkRow), "Links", max_entries=MAX_ROWS)
    discoverable = BooleanField("Show me in discovery", default=True)
    show_distance = BooleanField("Show how far away I am (rounded to whole km)", default=True)
    show_age = BooleanField("Show my age")

    def offer(self, options: dict) -> None:
        """Fill the choices read from the database and add blank rows to fill in."""
        offer_styles(self.styles, options)
        self.links.pad()
        platforms = choices(((key, p["name"]) for key, p in options["platforms"].items()),
                            blank="— platform —")
        for row in self.links:
            row.platform.choices = platforms
        self.interests.choices = choices((o["id"], o["name"]) for o in options["interests"])


class ProfileImageForm(FlaskForm):
    """Her avatar or cover: one form each, posted on its own (``file``, ``alt``, ``remove``)."""

    file = FileField("Image")
    alt = StringField("Describe it for people who cannot see it", filters=[strip],
                      render_kw={"maxlength": MAX_ALT_CHARS, "required": True})
    remove = SubmitField("Remove", render_kw={"class": "secondary"})

    def __init__(self, slot: str, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.slot = slot
        for field in (self.file, self.alt):  # both slots are on one page
            field.id = field.label.field_id = f"{slot}_{field.short_name}"
