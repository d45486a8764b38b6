"""Media storage backends: local folder and S3-compatible bucket."""

from __future__ import annotations

import os
from types import SimpleNamespace

import pytest

from idance_web import media
from idance_web.config import Config, ConfigError
from idance_web.media import MediaNotFound, StorageError
from idance_web.storage import LocalStorage, S3Storage, save_image, storage_from_config
from tests.fixtures.images import encode, noise, process

WEBP_KEY = "img/ab/" + "c" * 62 + ".webp"


def files_under(path) -> list[str]:
    return sorted(os.path.relpath(os.path.join(d, f), path)
                  for d, _, names in os.walk(path) for f in names)


def test_local_round_trip(tmp_path):
    storage = LocalStorage(tmp_path / "media", base_url="/media")
    assert not storage.exists(WEBP_KEY)
    storage.put(WEBP_KEY, b"webp-bytes", "image/webp")
    assert storage.exists(WEBP_KEY) and files_under(tmp_path / "media") == [WEBP_KEY]
    stream, content_type = storage.open(WEBP_KEY)
    with stream:
        assert (stream.read(), content_type) == (b"webp-bytes", "image/webp")
    assert storage.url(WEBP_KEY) == "/media/" + WEBP_KEY
    assert os.stat(tmp_path / "media" / WEBP_KEY).st_mode & 0o777 == 0o644
    storage.delete(WEBP_KEY)
    storage.delete(WEBP_KEY)  # a second delete is not an error
    assert not storage.exists(WEBP_KEY)
    with pytest.raises(MediaNotFound):
        storage.open(WEBP_KEY)


@pytest.mark.parametrize("key", [
    "../../x\x00.jpg", "../x.jpg", "/etc/passwd.jpg", "img/../../x.webp", "img\\..\\x.webp",
    "img/a.webp\n", "img//a.webp", ".hidden.webp", "img/a.webp.jpg", "img/a.svg",
    "IMG/A.WEBP", "img/a.webp/", "~/a.jpg", "img/%2e%2e/a.jpg", "",
])
def test_bad_keys_never_reach_the_filesystem(tmp_path, monkeypatch, key):
    class Tripwire:
        def __getattr__(self, name):
            return self  # os.path.realpath and the like: only a call is a touch

        def __call__(self, *args, **kwargs):
            raise AssertionError(f"filesystem reached with {args!r}")

    storage = LocalStorage(tmp_path / "media")
    # Inside media.py only: os, tempfile and the open builtin all lead to the tripwire.
    for name in ("os", "tempfile", "open"):
        monkeypatch.setattr(media, name, Tripwire(), raising=False)
    for call in (lambda: storage.put(key, b"x", "image/jpeg"), lambda: storage.open(key),
                 lambda: storage.delete(key), lambda: storage.exists(key),
                 lambda: storage.url(key)):
        with pytest.raises(MediaNotFound):
            call()
    assert files_under(tmp_path) == []


def test_symlink_out_of_the_root_is_refused(tmp_path):
    (tmp_path / "outside").mkdir()
    (tmp_path / "media").mkdir()
    (tmp_path / "media" / "img").symlink_to(tmp_path / "outside")
    with pytest.raises(MediaNotFound):
        LocalStorage(tmp_path / "media").put("img/ab.webp", b"x", "image/webp")
    assert files_under(tmp_path / "outside") == []


@pytest.mark.parametrize("failing", ["fsync", "replace"])
def test_failed_write_leaves_no_file_and_no_temp(tmp_path, monkeypatch, failing):
    def broken(*args):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, failing, broken)
    with pytest.raises(StorageError) as caught:
        LocalStorage(tmp_path / "media").put(WEBP_KEY, b"x" * 1000, "image/webp")
    monkeypatch.undo()
    assert caught.value.status == 503 and files_under(tmp_path / "media") == []


def fail_on_put(storage, n: int) -> list[str]:
    """Make the n-th put of ``storage`` fail; returns the keys it was asked to put."""
    calls, real_put = [], storage.put

    def put(key, data, content_type):
        calls.append(key)
        if len(calls) == n:
            raise StorageError("disk on fire")
        real_put(key, data, content_type)

    storage.put = put
    return calls


@pytest.fixture(scope="module")
def processed():
    return process(encode(noise((600, 450)), "PNG"), alt="Noise")


def test_save_image_stores_every_variant_and_returns_the_record(tmp_path, processed):
    storage = LocalStorage(tmp_path)
    record = save_image(storage, processed)
    assert record == processed.record() and record["alt"] == "Noise"
    assert "data" not in record["variants"]["large"]
    for variant in processed.variants.values():
        stream, content_type = storage.open(variant.key)
        with stream:
            assert (stream.read(), content_type) == (variant.data, variant.content_type)
    assert len(files_under(tmp_path)) == len(processed.variants) == 4


def test_failure_mid_save_leaves_nothing_but_files_it_did_not_write(tmp_path, processed):
    storage = LocalStorage(tmp_path)
    calls = fail_on_put(storage, 2)
    with pytest.raises(StorageError, match="disk on fire"):
        save_image(storage, processed)
    assert len(calls) == 2 and files_under(tmp_path) == []
    shared = processed.variants["large"]  # as if another record had the same picture
    LocalStorage(tmp_path).put(shared.key, shared.data, shared.content_type)
    storage = LocalStorage(tmp_path)
    fail_on_put(storage, 2)
    with pytest.raises(StorageError):
        save_image(storage, processed)
    assert files_under(tmp_path) == [shared.key]


ENDPOINT = "https://account.r2.cloudflarestorage.example"


@pytest.fixture
def s3(monkeypatch):
    """A bucket in moto: a real R2 bucket cannot exist here, so this is the one fake."""
    from moto import mock_aws

    monkeypatch.setenv("MOTO_S3_CUSTOM_ENDPOINTS", ENDPOINT)
    with mock_aws():
        import boto3

        boto3.client("s3", endpoint_url=ENDPOINT, region_name="us-east-1",
                     aws_access_key_id="k", aws_secret_access_key="s").create_bucket(
            Bucket="idance-media")
        yield S3Storage("idance-media", ENDPOINT, "k", "s", "https://media.idance.example")


def test_s3_round_trip(s3):
    assert not s3.exists(WEBP_KEY)
    s3.put(WEBP_KEY, b"webp-bytes", "image/webp")
    assert s3.exists(WEBP_KEY)
    body, content_type = s3.open(WEBP_KEY)
    assert (body.read(), content_type) == (b"webp-bytes", "image/webp")
    head = s3.client.head_object(Bucket="idance-media", Key=WEBP_KEY)
    assert head["ContentType"] == "image/webp"
    assert head["CacheControl"] == "public, max-age=31536000, immutable"
    assert s3.url(WEBP_KEY) == "https://media.idance.example/" + WEBP_KEY
    s3.delete(WEBP_KEY)
    assert not s3.exists(WEBP_KEY)
    for call in (lambda: s3.open(WEBP_KEY), lambda: s3.put("../x.webp", b"x", "image/webp")):
        with pytest.raises(MediaNotFound):
            call()
    with pytest.raises(StorageError) as caught:
        S3Storage("no-such-bucket", ENDPOINT, "k", "s").put(WEBP_KEY, b"x", "image/webp")
    assert caught.value.status == 503


def test_s3_save_image_and_rollback(s3, processed):
    assert save_image(s3, processed) == processed.record()
    for variant in processed.variants.values():
        assert s3.open(variant.key)[0].read() == variant.data
        s3.delete(variant.key)
    broken = S3Storage("idance-media", ENDPOINT, "k", "s")
    calls = fail_on_put(broken, 3)
    with pytest.raises(StorageError):
        save_image(broken, processed)
    assert len(calls) == 3 and not any(s3.exists(v.key) for v in processed.variants.values())


def test_storage_from_config(tmp_path):
    local = storage_from_config(Config(media_root=str(tmp_path)))
    assert isinstance(local, LocalStorage) and local.root == os.path.realpath(tmp_path)
    assert local.url(WEBP_KEY) == "/media/" + WEBP_KEY
    remote = storage_from_config(SimpleNamespace(
        media_backend="s3", media_root="unused", s3_bucket="b", s3_endpoint_url=ENDPOINT,
        s3_access_key_id="k", s3_secret_access_key="s", s3_public_url="https://cdn.example/m/"))
    assert isinstance(remote, S3Storage) and remote.bucket == "b"
    assert remote.client.meta.endpoint_url == ENDPOINT
    assert remote.url(WEBP_KEY) == "https://cdn.example/m/" + WEBP_KEY
    with pytest.raises(ConfigError) as caught:
        storage_from_config(SimpleNamespace(media_backend="s3", s3_bucket="b"))
    assert "IDANCE_S3_ACCESS_KEY_ID, IDANCE_S3_SECRET_ACCESS_KEY" in str(caught.value)
    assert "IDANCE_S3_BUCKET" not in str(caught.value)
    with pytest.raises(ConfigError, match="IDANCE_MEDIA_BACKEND"):
        storage_from_config(SimpleNamespace(media_backend="ftp", media_root="x"))


VIDEO_BYTES = os.urandom(3 * 1024 * 1024 + 5)  # more than one chunk of every copy


@pytest.fixture
def video_file(tmp_path):
    path = tmp_path / "upload.part"
    path.write_bytes(VIDEO_BYTES)
    return path


def test_file_key_hashes_the_file_into_a_key_of_ours(video_file):
    import hashlib

    key = media.file_key(video_file, "mp4")
    digest = hashlib.sha256(VIDEO_BYTES).hexdigest()
    assert key == f"vid/{digest[:2]}/{digest[2:]}.mp4" and media.KEY_PATTERN.fullmatch(key)
    assert media.file_key(video_file, "vtt").endswith(".vtt")
    with pytest.raises(ValueError):
        media.file_key(video_file, "mov")
    assert {ext: media.CONTENT_TYPES[ext] for ext in ("mp4", "webm", "vtt")} == {
        "mp4": "video/mp4", "webm": "video/webm", "vtt": "text/vtt"}


def test_local_put_file(tmp_path, video_file):
    storage = LocalStorage(tmp_path / "media")
    key = media.file_key(video_file, "mp4")
    storage.put_file(key, video_file, "video/mp4")
    stream, content_type = storage.open(key)
    with stream:
        assert (stream.read(), content_type) == (VIDEO_BYTES, "video/mp4")
    assert files_under(tmp_path / "media") == [key] and video_file.exists()  # source kept
    assert os.stat(tmp_path / "media" / key).st_mode & 0o777 == 0o644
    assert storage.signed_url(key, 60) is None  # the app serves local files itself
    with pytest.raises(StorageError):
        storage.put_file("vid/ab/" + "d" * 62 + ".mp4", tmp_path / "missing", "video/mp4")
    assert files_under(tmp_path / "media") == [key]  # no part file left behind
    with pytest.raises(MediaNotFound):
        storage.put_file("../x.mp4", video_file, "video/mp4")


def test_s3_put_file_and_signed_url(s3, video_file):
    import requests

    key = media.file_key(video_file, "webm")
    s3.put_file(key, video_file, "video/webm")
    head = s3.client.head_object(Bucket="idance-media", Key=key)
    assert (head["ContentType"], head["ContentLength"]) == ("video/webm", len(VIDEO_BYTES))
    assert head["CacheControl"].startswith("private")  # no shared cache keeps a private video
    url = s3.signed_url(key, 120)
    assert url.startswith(ENDPOINT) and "X-Amz-Expires=120" in url and "X-Amz-Signature=" in url
    answer = requests.get(url, timeout=10)  # moto answers the signed request itself
    assert answer.status_code == 200 and answer.content == VIDEO_BYTES
    with pytest.raises(MediaNotFound):
        s3.signed_url("../x.mp4", 60)
    with pytest.raises(StorageError):
        S3Storage("no-such-bucket", ENDPOINT, "k", "s").put_file(key, video_file, "video/webm")
