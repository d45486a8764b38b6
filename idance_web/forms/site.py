"""The site editor's forms (a form class per block type, built from the block registry; pages;
the look) and the contact form of a public site."""

from __future__ import annotations

from functools import cache

from flask_wtf import FlaskForm
from wtforms import (BooleanField, EmailField, Form, FormField, SelectField, StringField,
                     TextAreaField)
from wtforms.widgets import DateInput, TimeInput

from ..blocks import REGISTRY, BlockType, Field
from ..services.sites import FONTS, THEMES
from .core import Rows, choices, image_field

MARKDOWN_HELP = "Markdown: **bold**, *italic*, [link](https://…), lists with -."
# What a browser should offer for each kind of text field (the registry checks the value).
TEXT_INPUTS = {
    "int": {"render_kw": {"inputmode": "numeric"}},
    "url": {"render_kw": {"inputmode": "url"}},
    "link": {"render_kw": {"inputmode": "url"}},
    "date": {"widget": DateInput()},
    "time": {"widget": TimeInput()},
}
FALSE_VALUES = (False, "", "0", "false", "off")  # as the registry reads a bool


def _control(spec: Field):
    """The form field for one field of the registry."""
    label = f"{spec.label} (required)" if spec.required else spec.label
    if spec.kind == "image":
        return image_field(label)
    if spec.kind == "bool":
        return BooleanField(spec.label, false_values=FALSE_VALUES)
    if spec.kind == "choice":
        return SelectField(label, choices=choices(((o, o.capitalize()) for o in spec.options),
                                                  blank="—"), validate_choice=False)
    if spec.kind == "markdown":
        return TextAreaField(label, description=spec.help or MARKDOWN_HELP,
                             render_kw={"rows": 8})
    extra = TEXT_INPUTS.get(spec.kind, {})
    return StringField(label, description=spec.help, widget=extra.get("widget"),
                       render_kw={"maxlength": spec.max, **extra.get("render_kw", {})})


class BlockForm(FlaskForm):
    """A block's fields, as ``block_form(kind)`` adds them from the registry."""


@cache
def block_form(kind: str) -> type[BlockForm]:
    """The form class for blocks of type ``kind``: its fields, and ``items`` when the type
    has repeated entries (``items-0-title``…, each with a box to remove it)."""
    block: BlockType = REGISTRY[kind]
    fields = {spec.name: _control(spec) for spec in block.fields}
    if block.items is not None:
        item = type(f"{kind.title()}Item", (Form,), {
            **{spec.name: _control(spec) for spec in block.items.fields},
            "remove": BooleanField("Remove")})
        # Two rows past the most a block keeps: room for the blank rows the form shows.
        fields["items"] = Rows(FormField(item), block.items.label,
                               max_entries=block.items.max + 2)
    return type(f"{kind.title()}BlockForm", (BlockForm,), fields)


class PageForm(FlaskForm):
    title = StringField("New page title", id="page-title", render_kw={"maxlength": 60})
    slug = StringField("Address", id="page-slug",
                       render_kw={"maxlength": 40, "placeholder": "classes"})


class SettingsForm(FlaskForm):
    """The site's look and what search engines show."""

    theme = SelectField("Colours", choices=choices(THEMES.items()), validate_choice=False)
    font = SelectField("Fonts", choices=choices(FONTS.items()), validate_choice=False)
    seo_title = StringField("Title in search results", render_kw={"maxlength": 70})
    seo_description = TextAreaField("Description in search results",
                                    render_kw={"rows": 2, "maxlength": 300})


class ContactForm(FlaskForm):
    """A visitor's message to a site's owner (the contact block posts it)."""

    class Meta:
        csrf = False  # posted from cached public pages, which carry no token

    name = StringField("Your name", id="contact-name",
                       render_kw={"maxlength": 80, "autocomplete": "name"})
    email = EmailField("Your email (only they will see it)", id="contact-email",
                       render_kw={"maxlength": 254, "autocomplete": "email"})
    message = TextAreaField("Message", id="contact-message",
                            render_kw={"rows": 6, "maxlength": 2000})
    website = StringField("Leave empty")  # the honeypot: people never see it


def stored_block_images(kind: str, data: dict) -> dict:
    """Only the images of a block's stored data, as a submitted form's data: its image
    fields replace them, while its other fields take only what was sent."""
    block = REGISTRY[kind]
    images = {f.name: data.get(f.name) for f in block.fields if f.kind == "image"}
    if block.items is not None:
        names = [f.name for f in block.items.fields if f.kind == "image"]
        images["items"] = [{n: item.get(n) for n in names} for item in data.get("items") or []]
    return images
