"""Posting picture vlogs through the pages: what is kept, what is refused and how."""

from __future__ import annotations

import io
import re

from tests.fixtures.auth import csrf_token
from tests.fixtures.vlogs import fetch, picture, post_images, posted_key


def test_a_member_posts_pictures_and_sees_them_on_her_vlog(ann, db):
    key = posted_key(post_images(ann, count=3, styles=["salsa"], level="improver",
                                 choreographer="Maria", music="Oye como va"))
    html = ann.get(f"/vlogs/{key}").get_data(as_text=True)
    assert "Salsa shines" in html and "<strong>the studio</strong>" in html
    assert html.count('alt="Ann turning, picture') == 3
    assert "Maria" in html and "Oye como va" in html and "Improver" in html
    files = re.findall(rf'src="(/vlogs/{key}/media/vlog/img/[^"]+)"', html)
    assert len(files) == 3
    served = fetch(ann, files[0])
    assert served.status_code == 200 and served.mimetype == "image/webp"
    assert served.headers["Cache-Control"].startswith("public")
    feed = ann.get("/vlogs").get_data(as_text=True)
    assert f'data-vlog="{key}"' in feed
    with db.system() as s:
        counted = s.value("SELECT VALUE bytes FROM upload WHERE subject = type::thing('vlog', $k)",
                          {"k": key})
    assert counted and all(b > 0 for b in counted)


def _refused(response, status=400):
    assert response.status_code == status, response.status_code
    return response.get_data(as_text=True)


def test_bad_input_shows_the_form_again_with_the_problem_and_her_text(ann):
    html = _refused(post_images(ann, title="x" * 141, body="y" * 10_001, partner="nobody-here"))
    assert "Keep the title to 140 characters" in html
    assert "Keep the description to 10,000 characters" in html
    assert "No dancer is called @nobody-here" in html
    assert 'value="' + "x" * 141 + '"' in html  # her title is kept
    html = _refused(post_images(ann, count=2, alts={1: ""}))
    assert "Describe this picture" in html and 'aria-invalid="true"' in html
    html = _refused(post_images(ann, count=0))
    assert "Add a video or one to ten pictures" in html


def test_more_than_ten_pictures_are_refused(ann):
    html = _refused(post_images(ann, count=11))
    assert "at most 10 pictures (you sent 11)" in html


def test_a_renamed_html_file_is_refused_by_its_content(ann):
    data = {"csrf_token": csrf_token(ann, "/vlogs/new"), "title": "Trick", "visibility": "public",
            "images-0-file": (io.BytesIO(b"<html><script>alert(1)</script></html>"), "x.png"),
            "images-0-alt": "not a picture"}
    response = ann.post("/vlogs/new", data=data, content_type="multipart/form-data")
    html = _refused(response, 422)
    assert "JPEG, PNG, WebP or GIF" in html and 'value="Trick"' in html


def test_an_oversized_body_is_refused_with_413_and_the_form(ann, app):
    from idance_web.views.vlogs import _post_limit

    with app.test_request_context():
        limit = _post_limit()
    # The declared length is refused before a byte of the body is read.
    response = ann.post("/vlogs/new", input_stream=io.BytesIO(b"--x--\r\n"),
                        content_type="multipart/form-data; boundary=x",
                        environ_overrides={"CONTENT_LENGTH": str(limit + 1)})
    html = _refused(response, 413)
    assert "That upload is too large" in html and 'action="/vlogs/new"' in html


def test_visitors_are_sent_to_sign_in_to_post(visitor):
    response = visitor.get("/vlogs/new")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert visitor.get("/vlogs").status_code == 200  # explore


def test_her_usage_is_shown_on_the_posting_page(ann):
    posted_key(post_images(ann))
    html = ann.get("/vlogs/new").get_data(as_text=True)
    used = re.search(r"You use ([0-9.]+) (\w+) of your ([0-9.]+ GB) of storage", html)
    assert used and float(used.group(1)) > 0 and used.group(2) in ("kB", "Bytes")
    assert used.group(3) == "5.4 GB"  # the default quota, 5 GiB


def test_picture_bytes_helper_makes_a_png():
    assert picture().startswith(b"\x89PNG")


def test_a_group_admin_posts_as_the_group_and_a_member_cannot(ann, ben, db):
    from tests.fixtures.groups import create

    assert create(ann).status_code == 302  # Ann's studio, salsa-lab
    key = posted_key(post_images(ann, title="Studio night", owner="salsa-lab"))
    html = ben.get(f"/vlogs/{key}").get_data(as_text=True)
    assert "Salsa Lab Berlin" in html and "posted by Ann Lee" in html
    html = _refused(post_images(ben, title="Not mine", owner="salsa-lab"))
    assert "as a group you run" in html


def test_she_edits_her_vlog_and_others_cannot(ann, ben, db):
    key = posted_key(post_images(ann, title="Before", styles=["salsa"]))
    form = {"csrf_token": csrf_token(ann, f"/vlogs/{key}/edit"), "title": "After",
            "body": "New words", "visibility": "followers", "styles": ["bachata"],
            "level": "advanced", "music": "Romeo Santos"}
    assert ann.post(f"/vlogs/{key}/edit", data=form).status_code == 303
    html = ann.get(f"/vlogs/{key}").get_data(as_text=True)
    assert "After" in html and "Bachata" in html and "Romeo Santos" in html
    assert "Followers only" in html
    assert ben.get(f"/vlogs/{key}/edit").status_code == 404
    bad = ann.post(f"/vlogs/{key}/edit", data={**form, "title": ""})
    assert bad.status_code == 400 and "Give your vlog a title" in bad.get_data(as_text=True)
