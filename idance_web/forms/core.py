"""The parts every form is built from: repeated rows, checkbox groups, image fields, and
``attach_errors``, which puts a service's ``Invalid.fields`` next to the fields they name.

Forms parse and render; the rules live in the services (and the block registry), which take
plain values and raise ``Invalid``. A view fills the service's input from ``form.<field>.data``
and hands the refusal back with ``attach_errors``.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import lru_cache

from flask_wtf.file import FileField
from markupsafe import Markup, escape
from wtforms import (BooleanField, Field, FieldList, Form, FormField, HiddenField, SelectField,
                     SelectMultipleField, StringField)
from wtforms.fields.choices import Choice, SelectChoice
from wtforms.widgets import CheckboxInput, ListWidget, Select, html_params

from ..media import MAX_ALT_CHARS


def strip(value):
    """A filter: surrounding whitespace off (None and non-text pass through)."""
    return value.strip() if isinstance(value, str) else value


def choices(pairs, blank: str | None = None, group: str | None = None) -> list[SelectChoice]:
    """``SelectChoice``s from (value, label) pairs, with an optional blank first option."""
    found = [SelectChoice("", blank)] if blank is not None else []
    return found + [SelectChoice(value, label, optgroup=group) for value, label in pairs]


def grouped(families: dict[str, list[dict]], blank: str | None = None) -> list[SelectChoice]:
    """Options in ``<optgroup>``s: family → ``[{id, name}]`` (the dance styles)."""
    found = choices((), blank)
    for family, members in families.items():
        found += choices(((o["id"], o["name"]) for o in members), group=family.capitalize())
    return found


@lru_cache(maxsize=256)
def _options(choices: tuple[tuple, ...]) -> str:
    """The ``<option>``s of (value, label, optgroup) triples, none selected; a group's options
    are consecutive (as ``choices`` and ``grouped`` make them)."""
    html, group = [], None
    for value, label, optgroup in choices:
        if optgroup != group:
            if group is not None:
                html.append("</optgroup>")
            if optgroup is not None:
                html.append(f'<optgroup label="{escape(optgroup)}">')
            group = optgroup
        html.append(Select.render_option(Choice(value, label, False, None)))
    if group is not None:
        html.append("</optgroup>")
    return "".join(html)


class OptionsOnceSelect(Select):
    """A single select whose options are rendered once per list of choices.

    WTForms renders each ``<option>`` through ``html_params`` (about 50 µs): the profile
    editor's style rows alone are some 370 options, most of its server time. The rendered
    list is cached by its choices, and the selected option is marked in the copy.
    """

    def __call__(self, field, **kwargs):
        groups = (list(field._iter_groups_normalized()) if field.has_groups()
                  else [(None, list(field._iter_choices_normalized()))])
        found = [(c, group) for group, members in groups for c in members]
        if self.multiple or any(c.render_kw for c, _ in found):
            return super().__call__(field, **kwargs)
        kwargs.setdefault("id", field.id)
        for k in self.validation_attrs:
            if getattr(field.flags, k, False) and k not in kwargs:
                kwargs[k] = getattr(field.flags, k)
        options = _options(tuple((str(c.value), c.label or str(c.value), group)
                                 for c, group in found))
        chosen = next((c for c, _ in found if c.selected), None)
        if chosen is not None:
            plain = Select.render_option(chosen._replace(selected=False))
            options = options.replace(plain, Select.render_option(chosen), 1)
        return Markup(f"<select {html_params(name=field.name, **kwargs)}>{options}</select>")


class ChoiceField(SelectField):
    """``SelectField`` with ``OptionsOnceSelect``: the same markup, built faster."""

    widget = OptionsOnceSelect()


class MultiCheckboxField(SelectMultipleField):
    """A group of checkboxes sharing one name; rendered by the ``render_choices`` macro."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class LastFilledField(HiddenField):
    """A hidden field whose value a radio button of the same name may override.

    The city picker sends the type-ahead's hidden ``city_id`` and, when the typed name was
    ambiguous, the radio button she picked: the last value that is not empty wins.
    """

    def process_formdata(self, valuelist):
        filled = [v.strip() for v in valuelist if v.strip()]
        self.data = filled[-1] if filled else ""


class Rows(FieldList):
    """Repeated rows (``styles-0-style``, ``items-3-title``…) with room for errors of the list
    as a whole (``own_errors``: "at most 10 links") and blank rows to fill in.

    ``key`` names the field that makes a row filled in (a style row's level has no blank
    option); without it a row is blank when all its fields are. Row numbers are read as
    ASCII digits only ("²" is a digit to ``str.isdigit``), and at most ``max_entries`` rows.
    """

    def __init__(self, *args, key: str | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.key = key

    def process(self, formdata, *args, **kwargs):
        self.own_errors: list[str] = []
        super().process(formdata, *args, **kwargs)

    def _extract_indices(self, prefix, formdata):
        offset = len(prefix) + 1
        for name in formdata:
            if name.startswith(prefix + self._separator):
                number = name[offset:].split(self._field_separator, 1)[0]
                if number.isascii() and number.isdigit() and len(number) < 6:
                    yield int(number)

    @property
    def errors(self) -> list:
        return [*self.own_errors, *(e.errors for e in self.entries if e.errors)]

    def validate(self, form, extra_validators=()):
        for entry in self.entries:
            entry.validate(form)
        return not self.errors

    def is_blank(self, entry) -> bool:
        return is_blank(entry.data.get(self.key) if self.key else entry.data)

    def pad(self, blank: int = 2) -> None:
        """Add empty rows until the last ``blank`` rows are empty (within ``max_entries``)."""
        limit = self.max_entries or len(self.entries) + blank
        while len(self.entries) < limit and (
                len(self.entries) < blank
                or not all(self.is_blank(e) for e in self.entries[-blank:])):
            self.append_entry()


def is_blank(value) -> bool:
    """Whether a submitted value holds nothing (nested rows and images looked through)."""
    if isinstance(value, dict):
        return all(is_blank(v) for k, v in value.items() if k != "remove")
    if isinstance(value, (list, tuple)):
        return all(is_blank(v) for v in value)
    return not value


class ImageForm(Form):
    """One image: a file, its description, and a box to remove the one stored.

    Used as ``image_field()``, whose ``_`` separator names the inputs ``<name>_file``,
    ``<name>_alt`` and ``<name>_remove``; the stored image is the field's ``object_data``.
    """

    file = FileField("Image file")
    alt = StringField("Describe the image", filters=[strip],
                      render_kw={"maxlength": MAX_ALT_CHARS})
    remove = BooleanField("Remove")


def image_field(label: str) -> FormField:
    return FormField(ImageForm, label, separator="_")


def stored_image(field: FormField) -> dict | None:
    """The image an image field showed before this submission (None for none)."""
    image = field.object_data
    return image if isinstance(image, dict) and image.get("variants") else None


def _named(fields) -> Iterator[tuple[str, Field]]:
    for field in fields:
        yield field.name, field
        if isinstance(field, FormField):
            yield from _named(field.form)
        elif isinstance(field, FieldList):
            yield from _named(field.entries)


def attach_errors(form: Form, errors: dict[str, str], aliases: dict[str, str] | None = None
                  ) -> None:
    """Put service errors next to their fields; errors naming no field go on the form.

    A key is a field's full name (``display_name``, ``m_waist_cm``, ``items-2-date``); one
    naming a row or an image (``styles-0``, ``logo``) shows once for the whole group, one
    naming a list of rows (``links``) above its rows. ``aliases`` maps a service's key to the
    form's name for it (the city is ``city`` to the service, ``city_query`` on the form).
    """
    fields = dict(_named(form))
    for key, message in errors.items():
        field = fields.get((aliases or {}).get(key, key))
        if isinstance(field, FormField):
            field.form.form_errors.append(message)
        elif isinstance(field, Rows):
            field.own_errors.append(message)
        elif field is not None and field.type != "CSRFTokenField":
            field.errors = [*field.errors, message]
        else:
            form.form_errors.append(message)
