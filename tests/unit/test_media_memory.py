"""Decoding is bounded: pixel caps by how a file decodes, reduced-size JPEG decoding, a few
images at a time on their own threads, and no second full-size copy of an image."""

from __future__ import annotations

import io
import os
import struct
import threading
import time

import pytest
from PIL import Image, ImageFile

from idance_web import media
from idance_web.media import Decoders, ImagesBusy, ImageTooLarge, UnsupportedImage
from tests.fixtures.images import encode, png_header_only, process


def with_size(jpeg: bytes, width: int, height: int) -> bytes:
    """The same JPEG claiming another size in its frame header: a phone-sized header costs a
    few hundred bytes (libjpeg fills in the rows the scan data does not cover)."""
    offset = 2
    while jpeg[offset + 1] not in (0xC0, 0xC1, 0xC2):
        offset += 2 + struct.unpack(">H", jpeg[offset + 2:offset + 4])[0]
    return jpeg[:offset + 5] + struct.pack(">HH", height, width) + jpeg[offset + 9:]


def with_one_component_scans(jpeg: bytes) -> bytes:
    """A baseline JPEG whose first scan claims one component: libjpeg would then buffer every
    coefficient of the image, as for a progressive one."""
    offset = 2
    while jpeg[offset + 1] != 0xDA:
        offset += 2 + struct.unpack(">H", jpeg[offset + 2:offset + 4])[0]
    return jpeg[:offset + 4] + b"\x01" + jpeg[offset + 5:]


def small_jpeg(**params) -> bytes:
    return encode(Image.new("RGB", (300, 200), "red"), "JPEG", **params)


@pytest.fixture
def loads(monkeypatch):
    """The (format, size) of every image decoded, as it was when its pixels were read."""
    seen: list[tuple[str, tuple[int, int]]] = []
    real = ImageFile.ImageFile.load

    def load(self):
        if self.tile:  # pixels not read yet
            seen.append((self.format, self.size))
        return real(self)

    monkeypatch.setattr(ImageFile.ImageFile, "load", load)
    return seen


def test_the_reported_png_is_refused_before_decoding_and_a_smaller_one_is_not():
    # 6300×6300 (39.7 MP) was accepted before and took ~400 MB to decode; the IDAT is garbage,
    # so decoding it would have reported a damaged image instead.
    with pytest.raises(ImageTooLarge) as caught:
        process(png_header_only(6300, 6300, b"not zlib at all"))
    assert caught.value.status == 422
    assert caught.value.reason == ("The image is too large: use a picture of at most "
                                    "32 megapixels.")
    with pytest.raises(UnsupportedImage, match="damaged"):  # under the cap: decoding was tried
        process(png_header_only(6000, 5000, b"not zlib at all"))


def test_a_png_past_pillows_own_guard_names_the_png_cap():
    with pytest.raises(ImageTooLarge, match="at most 32 megapixels"):
        process(png_header_only(10_000, 10_000, b"\x00"))  # 100 MP: Pillow's warning, an error


def test_a_webp_over_its_cap_is_refused():
    data = encode(Image.new("RGB", (4000, 2600), "red"), "WEBP", lossless=True)
    with pytest.raises(ImageTooLarge, match="at most 10 megapixels"):
        process(data)


@pytest.mark.parametrize("make, size, cap", [
    (small_jpeg, (9000, 9000), 80),  # 81 MP: over every cap
    (lambda: small_jpeg(progressive=True), (8000, 6000), 25),
    (lambda: with_one_component_scans(small_jpeg()), (8000, 6000), 25),
])
def test_jpegs_decoded_at_full_size_have_a_lower_cap(make, size, cap, loads):
    with pytest.raises(ImageTooLarge) as caught:
        process(with_size(make(), *size))
    assert caught.value.reason.endswith(f"at most {cap} megapixels.")
    assert loads == []


def test_a_phone_sized_baseline_jpeg_is_accepted_and_decoded_at_a_quarter(loads):
    processed = process(with_size(small_jpeg(), 8000, 6000))  # 48 MP
    assert loads == [("JPEG", (2000, 1500))]  # libjpeg's 1/4 scale, still above 1200×900
    assert (processed.width, processed.height) == (8000, 6000)
    large = processed.variants["large"]
    assert (large.width, large.height) == (1200, 900)


@pytest.mark.parametrize("fmt", ["JPEG", "MPO"])
def test_jpeg_and_mpo_are_decoded_at_reduced_size(fmt, loads):
    im = Image.new("RGB", (2400, 1800), (20, 120, 200))
    second = {"save_all": True, "append_images": [Image.new("RGB", (64, 48))]}
    processed = process(encode(im, fmt, **(second if fmt == "MPO" else {})))
    assert loads == [(fmt, (1200, 900))]  # half size: exactly the largest variant
    assert {n: (v.width, v.height) for n, v in processed.variants.items()}["large"] == (1200, 900)
    out = Image.open(io.BytesIO(processed.variants["medium"].data)).convert("RGB")
    assert all(abs(a - b) < 8 for a, b in zip(out.getpixel((240, 180)), (20, 120, 200)))


def test_a_png_is_decoded_at_full_size_once(loads):
    processed = process(encode(Image.new("RGB", (2600, 1000), "green"), "PNG"))
    assert loads == [("PNG", (2600, 1000))]
    assert (processed.variants["large"].width, processed.variants["large"].height) == (1200, 462)


@pytest.mark.parametrize("size", [(500, 400), (300, 250), (251, 520)])
def test_shrinking_band_by_band_matches_shrinking_at_once(monkeypatch, size):
    # A largest variant of 100 px and bands of 5,000 pixels: 500×400 is reduced by 2 (box
    # filter), 300×250 and 251×520 are resampled straight to the variant's size.
    monkeypatch.setattr(media, "LARGEST", 100)
    monkeypatch.setattr(media, "BAND_PIXELS", 5_000)
    im = Image.frombytes("RGBA", size, os.urandom(size[0] * size[1] * 4))
    crops: list[int] = []
    real_crop = Image.Image.crop

    def crop(self, box=None):
        crops.append(box[3] - box[1])
        return real_crop(self, box)

    monkeypatch.setattr(Image.Image, "crop", crop)
    shrunk = media._shrink(im, alpha=True)
    monkeypatch.setattr(Image.Image, "crop", real_crop)
    whole = im.convert("RGBa")  # what Pillow itself resamples transparent images in
    if max(size) >= 400:
        expected, tolerance = whole.reduce(2), 0
    else:
        expected, tolerance = whole.resize(media._fit(size, 100), Image.Resampling.LANCZOS), 1
    assert shrunk.mode == "RGBa" and shrunk.size == expected.size
    assert max(abs(a - b) for a, b in zip(shrunk.tobytes(), expected.tobytes())) <= tolerance
    assert len(crops) > 3 and max(crops) < size[1] / 2  # never a second full-size image


def test_fitting_rounds_as_thumbnail_does():
    for size in [(3000, 2000), (2000, 3100), (4799, 4799), (2401, 900), (1001, 4999),
                 (4999, 1001), (1300, 7), (7, 1300), (800, 600)]:
        im = Image.new("1", size)
        im.thumbnail((1200, 1200))
        assert media._fit(size, 1200) == im.size, size


def test_no_more_images_decode_at_once_than_there_are_decoding_threads(monkeypatch):
    decoders = Decoders(2)
    active, most, threads_used = 0, 0, set()
    lock = threading.Lock()
    real = media._decode

    def counting(im):
        nonlocal active, most
        with lock:
            active += 1
            most = max(most, active)
            threads_used.add(threading.current_thread().name)
        try:
            time.sleep(0.1)  # long enough for every upload to be waiting
            return real(im)
        finally:
            with lock:
                active -= 1

    monkeypatch.setattr(media, "_decode", counting)
    data = encode(Image.new("RGB", (64, 48), "red"), "PNG")
    start = threading.Barrier(6)
    results = []

    def upload():
        start.wait()
        results.append(process(data, decoders=decoders))

    uploads = [threading.Thread(target=upload) for _ in range(6)]
    for t in uploads:
        t.start()
    for t in uploads:
        t.join(10)
    assert len(results) == 6 and {r.width for r in results} == {64}
    assert most == 2
    assert all(name.startswith("image-decode") for name in threads_used)


def test_an_upload_that_finds_no_free_thread_in_time_is_refused_and_never_decoded(monkeypatch):
    decoders = Decoders(1, wait=0.05)
    decoded = []
    real = media._decode
    monkeypatch.setattr(media, "_decode", lambda im: decoded.append(im.size) or real(im))
    started, release = threading.Event(), threading.Event()
    holder = threading.Thread(target=decoders.run,
                              args=(lambda: (started.set(), release.wait(10)),))
    holder.start()
    assert started.wait(5)
    data = encode(Image.new("RGB", (64, 48), "red"), "PNG")
    try:
        with pytest.raises(ImagesBusy) as caught:
            process(data, decoders=decoders)
    finally:
        release.set()
        holder.join(10)
    assert caught.value.status == 503 and "try again in a moment" in caught.value.reason
    assert process(data, decoders=decoders).width == 64
    assert decoded == [(64, 48)]  # the refused upload was never decoded, not even later


def test_a_decoding_error_reaches_the_caller():
    with pytest.raises(UnsupportedImage, match="damaged"):
        process(png_header_only(100, 100, b"not zlib at all"), decoders=Decoders(1))
