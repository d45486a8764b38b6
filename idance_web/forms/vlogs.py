"""Posting and editing a vlog, and commenting on one."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (BooleanField, FieldList, Form, FormField, HiddenField, RadioField,
                     SelectField, SelectMultipleField, StringField, TextAreaField)

from ..media import MAX_ALT_CHARS
from ..services.options import LEVELS
from ..services.vlogs import MAX_IMAGES, VISIBILITIES
from .core import choices, grouped, strip

MARKDOWN_HELP = "Markdown: **bold**, *italic*, [links](https://…)"


class VlogImageForm(Form):
    """One picture of a vlog and its description (required)."""

    file = FileField("Picture")
    alt = StringField("Describe it for people who cannot see it", filters=[strip],
                      render_kw={"maxlength": MAX_ALT_CHARS})


class VlogForm(FlaskForm):
    """A vlog's text, styles, level, audience and credits; its media when posting."""

    owner = SelectField("Post as", choices=[], validate_choice=False)
    title = StringField("Title", filters=[strip], render_kw={"maxlength": 140, "required": True})
    body = TextAreaField("Description", description=MARKDOWN_HELP, render_kw={"rows": 6})
    styles = SelectMultipleField("Dance styles", description="Up to 5; choose several with "
                                 "Ctrl or ⌘.", validate_choice=False, render_kw={"size": 8})
    level = SelectField("Level", choices=choices(((v, v.title()) for v in LEVELS), "Any level"),
                        validate_choice=False)
    visibility = RadioField("Who may see it", choices=choices(VISIBILITIES.items()),
                            default="public", validate_choice=False)
    partner = StringField("Dance partner (username)", filters=[strip],
                          description="She is asked first: the credit shows once she accepts.",
                          render_kw={"maxlength": 40, "autocapitalize": "none"})
    choreographer = StringField("Choreographer", filters=[strip], render_kw={"maxlength": 120})
    music = StringField("Music", filters=[strip], render_kw={"maxlength": 200})
    video = FileField("Video (MP4, WebM or a phone's MOV)")
    images = FieldList(FormField(VlogImageForm), min_entries=MAX_IMAGES, max_entries=MAX_IMAGES)
    captions = FileField("Captions (a WebVTT file, optional)")
    remove_captions = BooleanField("Remove the captions")

    def offer(self, options: dict, groups: list[dict]) -> None:
        """Fill the choices read from the database."""
        self.styles.choices = grouped(options["families"])
        self.owner.choices = choices([("", "Myself")] + [(g["slug"], g["name"]) for g in groups])


class CommentForm(FlaskForm):
    body = TextAreaField("Comment", description=MARKDOWN_HELP,
                         render_kw={"rows": 3, "maxlength": 2000})
    parent = HiddenField()
