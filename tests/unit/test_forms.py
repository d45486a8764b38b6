"""The form parts: repeated rows, image fields, service errors put back next to their fields,
and block forms built from the registry."""

from __future__ import annotations

import pytest
from flask import Flask
from werkzeug.datastructures import MultiDict
from wtforms import Form, FormField, SelectField, StringField

from idance_web.blocks import REGISTRY
from idance_web.forms import attach_errors, block_form
from idance_web.forms.core import (
    ChoiceField, LastFilledField, Rows, choices, grouped, image_field,
)
from idance_web.forms.site import stored_block_images


@pytest.fixture
def flask_forms():
    """An application context for FlaskForm classes (no database, no CSRF)."""
    app = Flask(__name__)
    app.config["WTF_CSRF_ENABLED"] = False
    with app.app_context():
        yield


class Row(Form):
    style = StringField()
    level = StringField()


class Sizes(Form):
    waist = StringField()


class Editor(Form):
    name = StringField()
    city_query = StringField()
    city_id = LastFilledField()
    rows = Rows(FormField(Row), key="style", max_entries=5)
    m = FormField(Sizes, separator="_")
    logo = image_field("Logo")


def test_rows_read_in_order_with_ascii_numbers_only():
    form = Editor(MultiDict([("rows-3-style", "tango"), ("rows-0-style", "salsa"),
                             ("rows-²-style", "ghost"), ("rows-1234567-style", "far"),
                             ("rows-x-style", "odd")]))
    assert [row.data["style"] for row in form.rows] == ["salsa", "tango"]
    assert [row.name for row in form.rows] == ["rows-0", "rows-1"]  # renumbered


def test_rows_read_at_most_max_entries_and_pad_blank_rows():
    form = Editor(MultiDict([(f"rows-{i}-style", "s") for i in range(9)]))
    assert len(form.rows.entries) == 5
    form.rows.pad()
    assert len(form.rows.entries) == 5  # full: no room for more
    form = Editor(MultiDict([("rows-0-style", "salsa"), ("rows-0-level", "beginner"),
                             ("rows-1-level", "beginner")]))  # a row without a style is blank
    form.rows.pad()
    assert [row.data["style"] for row in form.rows] == ["salsa", None, None]


def test_the_last_filled_city_id_wins():
    # The hidden input of the type-ahead comes first; the radio button she picked after it.
    assert Editor(MultiDict([("city_id", ""), ("city_id", "5083330")])).city_id.data == "5083330"
    assert Editor(MultiDict([("city_id", "")])).city_id.data == ""


def test_image_inputs_are_named_after_the_field():
    form = Editor()
    assert (form.logo.file.name, form.logo.alt.name, form.logo.remove.name) == (
        "logo_file", "logo_alt", "logo_remove")
    assert form.m.waist.name == "m_waist"


def test_service_errors_land_next_to_the_fields_they_name():
    form = Editor(MultiDict([("rows-0-style", "moonwalk"), ("rows-1-style", "salsa")]))
    attach_errors(form, {
        "name": "Enter a name.", "m_waist": "Waist must be a number.",
        "rows-0": "Choose a style from the list.", "rows": "List at most 1 style.",
        "logo": "That file is not accepted.", "city": "We could not find that city.",
        "kind": "Try again.", "csrf_token": "Not a field here either."},
        aliases={"city": "city_query"})
    assert form.name.errors == ["Enter a name."]
    assert form.m.waist.errors == ["Waist must be a number."]
    assert form.rows[0].form.form_errors == ["Choose a style from the list."]
    assert form.rows[1].form.form_errors == []
    assert form.rows.own_errors == ["List at most 1 style."]
    assert form.logo.form.form_errors == ["That file is not accepted."]
    assert form.city_query.errors == ["We could not find that city."]
    assert form.form_errors == ["Try again.", "Not a field here either."]
    assert form.errors  # so the page says that fields need attention


def test_block_forms_are_built_from_the_registry(flask_forms):
    names = {f.name for f in block_form("hero")(formdata=None)}
    assert names == {f.name for f in REGISTRY["hero"].fields}
    gallery = block_form("gallery")(
        MultiDict([("items-0-caption", "Night"), ("items-0-image_alt", "Stage")]))
    row = gallery["items"][0]
    assert (row.caption.name, row.image.file.name, row.remove.name) == (
        "items-0-caption", "items-0-image_file", "items-0-remove")
    assert row.image.alt.data == "Stage"
    assert gallery["items"].max_entries == REGISTRY["gallery"].items.max + 2
    assert block_form("gallery") is block_form("gallery")  # one class per block type


def test_a_submitted_block_form_keeps_only_the_stored_images(flask_forms):
    image = {"variants": {"thumb": {"key": "a"}}, "alt": "Old"}
    stored = {"title": "Old title", "items": [{"image": image, "caption": "Old caption"}]}
    assert stored_block_images("gallery", stored) == {"items": [{"image": image}]}
    form = block_form("gallery")(MultiDict([("items-0-caption", "New")]),
                                 data=stored_block_images("gallery", stored))
    row = form["items"][0]
    assert not form.title.data and row.caption.data == "New"  # the stored title is not kept
    assert row.image.object_data == image and row.image.alt.data == "Old"


@pytest.mark.parametrize("data", ["", "salsa", "kizomba", "not-offered", 'x"><script>'])
def test_options_rendered_once_make_the_same_markup_as_wtforms(data):
    families = {"latin": [{"id": "salsa", "name": "Salsa"}, {"id": "bachata", "name": "Bachata"}],
                "african": [{"id": "kizomba", "name": "Kizomba & <Semba>"}]}

    class Plain(Form):
        style = SelectField("Style", choices=grouped(families, blank="— style —"),
                            validate_choice=False)
        level = SelectField("Level", choices=choices([("a", "A"), ("b", 'B "b"')]))

    class Once(Form):
        style = ChoiceField("Style", choices=grouped(families, blank="— style —"),
                            validate_choice=False)
        level = ChoiceField("Level", choices=choices([("a", "A"), ("b", 'B "b"')]))

    formdata = MultiDict({"style": data, "level": "b"})
    plain, once = Plain(formdata), Once(formdata)
    for name in ("style", "level"):
        expected = str(plain[name](class_="wide", required=True))
        assert str(once[name](class_="wide", required=True)) == expected
        assert str(once[name]()) == str(plain[name]())
    assert ("selected" in str(once.style())) == (data in {"", "salsa", "kizomba"})
