"""Serving stored videos and captions (``send_stored``) and large request bodies
(``limit_body``), through routes registered for the test on the real app."""

from __future__ import annotations

import io
import os

import pytest
from flask import request

from idance_web.body_limits import limit_body
from idance_web.extensions import csrf
from idance_web.storage import LocalStorage, S3Storage
from idance_web.views.media import SIGNED_URL_SECONDS, send_stored
from tests.fixtures.app import build_app, make_config
from tests.fixtures.auth import csrf_token

KEY = "vid/ab/" + "c" * 62 + ".mp4"
VTT_KEY = "vid/cd/" + "e" * 62 + ".vtt"
BODY = os.urandom(100_000)
LIMIT = 12 * 1024 * 1024  # above the app's default cap (an image's size)


def fetch(client, path: str, **kwargs):
    """A GET whose streamed body is read and closed, as a server would close it."""
    answer = client.get(path, **kwargs)
    answer.get_data()
    answer.close()
    return answer


def add_routes(app) -> None:
    @app.get("/test-private/<path:key>")
    def private(key):
        return send_stored(key, private=True, max_age=60)

    @app.get("/test-public/<path:key>")
    def public(key):
        return send_stored(key, private=False, max_age=3600)

    @app.post("/test-upload")
    @limit_body(LIMIT)
    def upload():
        return {"size": len(request.files["video"].read())}

    @app.post("/test-upload-exempt")
    @csrf.exempt
    @limit_body(lambda: LIMIT)
    def upload_exempt():
        return {"size": len(request.files["video"].read()), "title": request.form["title"]}


@pytest.fixture
def app(tmp_path):
    app = build_app(make_config(media_root=str(tmp_path / "media")))
    add_routes(app)
    storage = app.extensions["idance.storage"]
    storage.put(KEY, BODY, "video/mp4")
    storage.put(VTT_KEY, b"WEBVTT\n\n00:00.000 --> 00:01.000\nHi\n", "text/vtt")
    yield app
    app.extensions["idance.db"].close()


def test_whole_file_with_private_caching(app):
    answer = fetch(app.test_client(), "/test-private/" + KEY)
    assert answer.status_code == 200 and answer.data == BODY
    assert answer.mimetype == "video/mp4" and answer.headers["Accept-Ranges"] == "bytes"
    assert answer.headers["Cache-Control"] == "private, max-age=60"
    assert answer.headers["Content-Length"] == str(len(BODY))
    assert answer.headers["X-Content-Type-Options"] == "nosniff"
    captions = fetch(app.test_client(), "/test-private/" + VTT_KEY)
    assert captions.mimetype == "text/vtt" and captions.data.startswith(b"WEBVTT")


def test_ranges(app):
    client = app.test_client()
    part = fetch(client, "/test-private/" + KEY, headers={"Range": "bytes=1000-1999"})
    assert part.status_code == 206 and part.data == BODY[1000:2000]
    assert part.headers["Content-Range"] == f"bytes 1000-1999/{len(BODY)}"
    assert part.headers["Cache-Control"] == "private, max-age=60"
    tail = fetch(client, "/test-private/" + KEY, headers={"Range": "bytes=-500"})
    assert tail.status_code == 206 and tail.data == BODY[-500:]
    open_ended = fetch(client, "/test-private/" + KEY,
                       headers={"Range": f"bytes={len(BODY) - 10}-"})
    assert open_ended.status_code == 206 and open_ended.data == BODY[-10:]
    past = fetch(client, "/test-private/" + KEY, headers={"Range": f"bytes={len(BODY)}-"})
    assert past.status_code == 416 and past.headers["Content-Range"] == f"bytes */{len(BODY)}"


def test_etag_and_conditional_requests(app):
    client = app.test_client()
    etag = fetch(client, "/test-private/" + KEY).headers["ETag"]
    assert "c" * 62 in etag
    again = fetch(client, "/test-private/" + KEY, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.data == b""
    # A range under If-Range with the same ETag is a range; with another, the whole file.
    same = fetch(client, "/test-private/" + KEY, headers={"Range": "bytes=0-9", "If-Range": etag})
    other = fetch(client, "/test-private/" + KEY, headers={"Range": "bytes=0-9",
                                                         "If-Range": '"other"'})
    assert (same.status_code, len(same.data)) == (206, 10)
    assert (other.status_code, len(other.data)) == (200, len(BODY))


def test_public_caching_sets_no_cookie_and_unknown_keys_are_404(app):
    answer = fetch(app.test_client(), "/test-public/" + KEY)
    assert answer.headers["Cache-Control"] == "public, max-age=3600"
    assert "Set-Cookie" not in answer.headers and "Cookie" not in answer.headers.get("Vary", "")
    client = app.test_client()
    for key in ("vid/ab/" + "d" * 62 + ".mp4", "../secret.mp4", "vid/ab/x.exe"):
        assert fetch(client, "/test-private/" + key).status_code == 404


def test_a_bucket_answers_with_a_short_lived_signed_url(app, monkeypatch):
    from moto import mock_aws

    endpoint = "https://account.r2.cloudflarestorage.example"
    monkeypatch.setenv("MOTO_S3_CUSTOM_ENDPOINTS", endpoint)
    with mock_aws():
        S3Storage("idance-media", endpoint, "k", "s", region="us-east-1").client.create_bucket(
            Bucket="idance-media")
        bucket = S3Storage("idance-media", endpoint, "k", "s")
        bucket.put(KEY, BODY, "video/mp4")
        app.extensions["idance.storage"] = bucket
        answer = fetch(app.test_client(), "/test-private/" + KEY)
    assert answer.status_code == 302
    assert answer.headers["Location"].startswith(f"{endpoint}/idance-media/{KEY}?")
    assert f"X-Amz-Expires={SIGNED_URL_SECONDS}" in answer.headers["Location"]
    assert answer.headers["Cache-Control"] == "private, max-age=60"


class Untouchable(io.BytesIO):
    """A request body that fails the test if a byte of it is read."""

    def read(self, *args):
        raise AssertionError("the body was read")

    read1 = readinto = readline = read


def test_a_declared_length_past_the_limit_is_refused_before_the_body_is_read(app):
    answer = app.test_client().post("/test-upload", input_stream=Untouchable(),
                                    content_type="multipart/form-data; boundary=x",
                                    environ_overrides={"CONTENT_LENGTH": str(LIMIT + 1)})
    # 413, not the CSRF check's 400: the limit runs before any hook reads the form.
    assert answer.status_code == 413 and b"the limit is 13 MB" in answer.data


def multipart(size: int, token: str = "") -> tuple[bytes, str]:
    body = (f"--x\r\nContent-Disposition: form-data; name=\"csrf_token\"\r\n\r\n{token}\r\n"
            .encode() +
            b"--x\r\nContent-Disposition: form-data; name=\"title\"\r\n\r\nSalsa\r\n"
            b"--x\r\nContent-Disposition: form-data; name=\"video\"; filename=\"a.mp4\"\r\n"
            b"Content-Type: video/mp4\r\n\r\n" + b"v" * size + b"\r\n--x--\r\n")
    return body, "multipart/form-data; boundary=x"


def test_a_body_within_the_view_limit_passes_the_app_cap(app):
    assert app.config["MAX_CONTENT_LENGTH"] < 11 * 1024 * 1024 < LIMIT
    body, content_type = multipart(11 * 1024 * 1024)
    answer = app.test_client().post("/test-upload-exempt", data=body, content_type=content_type)
    assert answer.status_code == 200
    assert answer.json == {"size": 11 * 1024 * 1024, "title": "Salsa"}
    # The CSRF check reads the form before the view: by then the view's cap is in place.
    client = app.test_client()
    body, content_type = multipart(11 * 1024 * 1024, csrf_token(client, "/login"))
    answer = client.post("/test-upload", data=body, content_type=content_type)
    assert answer.status_code == 200 and answer.json == {"size": 11 * 1024 * 1024}


def test_a_body_without_a_length_is_cut_off_at_the_limit(app):
    body, content_type = multipart(LIMIT + 1)
    answer = app.test_client().post(
        "/test-upload-exempt", input_stream=io.BytesIO(body), content_type=content_type,
        environ_overrides={"wsgi.input_terminated": True})
    assert answer.status_code == 413
    small, _ = multipart(1000)
    answer = app.test_client().post(
        "/test-upload-exempt", input_stream=io.BytesIO(small), content_type=content_type,
        environ_overrides={"wsgi.input_terminated": True})
    assert answer.status_code == 200 and answer.json["size"] == 1000


def test_videos_and_captions_are_never_served_at_the_public_media_path(app):
    client = app.test_client()
    for key in (KEY, VTT_KEY):
        assert fetch(client, "/media/" + key).status_code == 404
        assert fetch(client, "/test-private/" + key).status_code == 200
