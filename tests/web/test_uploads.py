"""Avatar and cover uploads through the profile editor, and how media is served."""

from __future__ import annotations

import io
import os
import threading

import pytest
from PIL import Image

from tests.fixtures.app import build_app, make_config
from tests.fixtures.auth import AuthActions, csrf_token
from tests.fixtures.images import png_header_only


@pytest.fixture
def media_app(tmp_path):
    app = build_app(make_config(media_root=str(tmp_path / "media"), max_image_bytes=200_000))
    yield app
    app.extensions["idance.db"].close()


@pytest.fixture
def alice(media_app):
    actions = AuthActions(media_app.test_client())
    actions.signup("alice")
    return actions.client


def jpeg_with_gps() -> bytes:
    im = Image.new("RGB", (640, 480), (200, 30, 90))
    exif = Image.Exif()
    exif[0x010F] = "SecretCam"
    exif[0x8825] = {1: "N", 2: (52.0, 31.0, 12.0), 3: "E", 4: (13.0, 24.0, 36.0)}
    out = io.BytesIO()
    im.save(out, "JPEG", exif=exif.tobytes())
    return out.getvalue()


def upload(client, data: bytes, name="me.jpg", alt="Alice dancing", slot="avatar"):
    return client.post(f"/me/profile/images/{slot}", data={
        "csrf_token": csrf_token(client, "/me/profile"), "alt": alt,
        "file": (io.BytesIO(data), name)}, content_type="multipart/form-data")


def stored_files(app) -> list[str]:
    root = app.config["IDANCE"].media_root
    return [os.path.join(d, f) for d, _, fs in os.walk(root) for f in fs]


def test_avatar_upload_strips_gps_and_is_served_safely(media_app, alice):
    response = upload(alice, jpeg_with_gps())
    assert response.status_code == 302
    html = alice.get("/me").get_data(as_text=True)
    src = html.split('class="avatar" src="')[1].split('"')[0]
    served = alice.get(src)
    assert served.status_code == 200
    assert served.mimetype == "image/webp"
    assert served.headers["X-Content-Type-Options"] == "nosniff"
    assert "immutable" in served.headers["Cache-Control"]
    assert b"SecretCam" not in served.data and b"Exif" not in served.data
    assert 'alt="Alice dancing"' in html
    # Only re-encoded variants are stored, never the upload itself.
    assert stored_files(media_app) and all(f.endswith((".webp", ".jpg")) for f in stored_files(media_app))
    original = jpeg_with_gps()
    for path in stored_files(media_app):
        with open(path, "rb") as handle:
            assert handle.read() != original


@pytest.mark.parametrize("data, name, message, status", [
    (b"<html><script>alert(1)</script></html>", "x.jpg", "SVG and HTML files are not accepted", 422),
    (b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>', "x.svg", "SVG", 422),
    (jpeg_with_gps()[:800], "cut.jpg", "", 422),
])
def test_bad_files_are_refused_with_a_clear_message(media_app, alice, data, name, message, status):
    response = upload(alice, data, name=name)
    body = response.get_data(as_text=True)
    assert response.status_code == status
    assert 'id="avatar_file-error"' in body and message in body
    assert stored_files(media_app) == []


def test_missing_alt_text_is_asked_for(media_app, alice):
    response = upload(alice, jpeg_with_gps(), alt="  ")
    assert response.status_code == 422
    assert 'id="avatar_file-error"' in response.get_data(as_text=True)
    assert stored_files(media_app) == []


def test_a_body_over_the_cap_is_413(media_app, alice):
    response = upload(alice, b"\xff\xd8" + os.urandom(400_000))
    assert response.status_code == 413
    assert stored_files(media_app) == []


def test_decompression_bomb_is_refused(media_app, alice):
    import zlib

    bomb = png_header_only(50_000, 50_000, zlib.compress(b"\x00" * 10_000))
    response = upload(alice, bomb, name="bomb.png")
    assert response.status_code == 422
    assert "too large" in response.get_data(as_text=True).lower()


def test_an_upload_finding_every_decoding_thread_busy_is_refused_then_goes_through(media_app,
                                                                                   alice):
    decoders = media_app.extensions["idance.image_decoders"]  # the app's own, from its config
    decoders.wait = 0.05
    started, release = threading.Barrier(decoders.size + 1), threading.Event()
    holders = [threading.Thread(target=decoders.run,
                                args=(lambda: (started.wait(5), release.wait(10)),))
               for _ in range(decoders.size)]
    for holder in holders:
        holder.start()
    started.wait(5)  # every decoding thread is taken
    try:
        response = upload(alice, jpeg_with_gps())
    finally:
        release.set()
        for holder in holders:
            holder.join(10)
    body = response.get_data(as_text=True)
    assert response.status_code == 503
    assert 'id="avatar_file-error"' in body and "please try again in a moment" in body
    assert stored_files(media_app) == []
    assert upload(alice, jpeg_with_gps()).status_code == 302


def test_media_keys_cannot_escape_the_folder(media_app, alice):
    # No such key: not found; a NUL is refused at the door, before any lookup.
    for key, status in (("../../etc/passwd", 404), ("img/../../x", 404),
                        ("img/ab/x\x00.jpg", 400), ("..%2F..%2Fx", 404)):
        assert alice.get("/media/" + key).status_code == status, key


def test_others_see_the_avatar_on_the_public_profile(media_app, alice):
    upload(alice, jpeg_with_gps())
    html = media_app.test_client().get("/@alice").get_data(as_text=True)
    assert 'alt="Alice dancing"' in html and "/media/img/" in html


def _noisy_png(seed: int) -> bytes:
    import random

    rng = random.Random(seed)
    im = Image.frombytes("RGB", (300, 300), bytes(rng.getrandbits(8) for _ in range(300 * 300 * 3)))
    out = io.BytesIO()
    im.save(out, "PNG")
    return out.getvalue()


def test_a_member_cannot_store_past_her_quota(tmp_path):
    from idance_web.media import process_image

    variants = process_image(_noisy_png(0), max_bytes=10**7, alt="x").variants.values()
    one = sum({v.key: v.size for v in variants}.values())  # one file per distinct variant
    quota = int(one * 2.5)  # room for two pictures, not three
    app = build_app(make_config(media_root=str(tmp_path / "media"), media_quota_bytes=quota))
    actions = AuthActions(app.test_client())
    actions.signup("alice")
    statuses = [upload(actions.client, _noisy_png(i), name=f"{i}.png").status_code for i in range(3)]
    assert statuses == [302, 302, 413]
    refused = upload(actions.client, _noisy_png(9), name="9.png")
    assert "You have used your" in refused.get_data(as_text=True)
    with app.extensions["idance.db"].system() as s:
        stored = s.value("RETURN math::sum(SELECT VALUE bytes FROM upload)")
    assert one < stored <= quota
    assert sum(os.path.getsize(f) for f in stored_files(app)) == stored
    app.extensions["idance.db"].close()


def test_two_uploads_at_once_cannot_pass_the_quota_together(tmp_path):
    """Both requests are held once past the quota step until the other one got its answer:
    counting and checking in separate steps would let both through."""
    import threading

    from idance_web.media import process_image

    sizes = []  # of each picture's variants; either request may be the one let through
    for seed in (0, 1):
        variants = process_image(_noisy_png(seed), max_bytes=10**7, alt="x").variants.values()
        sizes.append(sum({v.key: v.size for v in variants}.values()))
    quota = int(max(sizes) * 1.5)  # room for one picture, not two
    assert sum(sizes) > quota
    app = build_app(make_config(media_root=str(tmp_path / "media"), media_quota_bytes=quota))
    first, second = AuthActions(app.test_client()), AuthActions(app.test_client())
    first.signup("alice")
    second.login("alice@example.com")  # a second browser of hers

    storage = app.extensions["idance.storage"]
    real_put, arrived, release = storage.put, [], threading.Event()

    def put_when_both_decided(*args, **kwargs):
        arrived.append(threading.current_thread().name)
        if len(set(arrived)) == 2:
            release.set()
        release.wait(timeout=10)
        return real_put(*args, **kwargs)

    storage.put = put_when_both_decided
    statuses = {}

    def send(name, client, seed):
        statuses[name] = upload(client, _noisy_png(seed), name=f"{seed}.png").status_code
        release.set()  # answered: the other request need not wait for it any more

    threads = [threading.Thread(target=send, args=(n, c, i), name=n)
               for i, (n, c) in enumerate([("a", first.client), ("b", second.client)])]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(statuses.values()) == [302, 413]
    with app.extensions["idance.db"].system() as s:
        stored = s.value("RETURN math::sum(SELECT VALUE bytes FROM upload)")
    assert stored == sizes[0 if statuses["a"] == 302 else 1]
    assert sum(os.path.getsize(f) for f in stored_files(app)) == stored
    app.extensions["idance.db"].close()
