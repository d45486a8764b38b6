"""The image pipeline and media storage, on real images generated here."""

from __future__ import annotations

import hashlib
import io
import os
import struct
import time
import warnings
import zlib

import pytest
from PIL import GifImagePlugin, Image, ImageCms, ImageFile, PngImagePlugin

from idance_web.media import (
    KEY_PATTERN, ImageTooLarge, InvalidAlt, MediaError, MediaNotFound,
    StorageError, UnsupportedImage, UploadTooLarge, process_image,
)
from idance_web.storage import guess_served_content_type
from tests.fixtures.images import MB, encode, noise, png_header_only, process

ACCEPTED = "JPEG, PNG, WebP or GIF"
SRGB_ICC = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
SECRET_XMP = b'<x:xmpmeta xmlns:x="adobe:ns:meta/">secret-xmp</x:xmpmeta>'
SECRETS = (b"Exif", b"SecretCam", b"secret-xmp", b"xmpmeta", b"secret comment", b"ICC_PROFILE",
           b"acsp")
WEBP_KEY = "img/ab/" + "c" * 62 + ".webp"


def gif_with_frames(count: int) -> bytes:
    """A 1×1 GIF of ``count`` frames, built by hand (Pillow would take far longer)."""
    header = b"GIF89a" + bytes([1, 0, 1, 0, 0x80, 0, 0]) + b"\x00\x00\x00\xff\xff\xff"
    return header + b"\x2c\0\0\0\0\x01\0\x01\0\0\x02\x02\x44\x01\x00" * count + b"\x3b"


def webp_chunks(data: bytes) -> set[bytes]:
    chunks, offset = set(), 12  # after RIFF, size, WEBP
    while offset < len(data):
        size = struct.unpack("<I", data[offset + 4:offset + 8])[0]
        chunks.add(data[offset:offset + 4])
        offset += 8 + size + (size & 1)
    return chunks


def jpeg_markers(data: bytes) -> list[int]:
    markers, offset = [], 2  # after SOI
    while data[offset + 1] != 0xDA:  # start of scan: entropy-coded data follows
        markers.append(data[offset + 1])
        offset += 2 + struct.unpack(">H", data[offset + 2:offset + 4])[0]
    return markers


def secret_exif(orientation: int = 1) -> bytes:
    exif = Image.Exif()
    exif[0x0112] = orientation
    exif[0x010F] = "SecretCam"
    exif[0x8825] = {1: "N", 2: (48.0, 51.0, 24.0), 3: "E", 4: (2.0, 21.0, 7.0)}  # GPS IFD
    return exif.tobytes()


def tagged_jpeg(icc: bool = True) -> bytes:
    """300×200, left half red and right half blue, carrying GPS, orientation 6, XMP, comment."""
    im = Image.new("RGB", (300, 200), "blue")
    im.paste("red", (0, 0, 150, 200))
    extra = {"icc_profile": SRGB_ICC} if icc else {}
    return encode(im, "JPEG", quality=95, exif=secret_exif(6), comment=b"secret comment",
                  xmp=SECRET_XMP, **extra)


def tagged_png() -> bytes:
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", "secret comment")
    info.add_itxt("XML:com.adobe.xmp", SECRET_XMP.decode())
    return encode(Image.new("RGBA", (300, 200), "red"), "PNG", pnginfo=info,
                  exif=secret_exif(), icc_profile=SRGB_ICC)


TAGGED = {
    "jpeg": tagged_jpeg, "jpeg-no-icc": lambda: tagged_jpeg(icc=False), "png": tagged_png,
    "gif": lambda: encode(Image.new("RGB", (30, 20), "red"), "GIF", comment=b"secret comment"),
    "webp": lambda: encode(Image.new("RGB", (30, 20), "red"), "WEBP", exif=secret_exif(),
                           xmp=SECRET_XMP, icc_profile=SRGB_ICC),
}


@pytest.mark.parametrize("kind", TAGGED)
def test_every_variant_is_free_of_metadata(kind):
    data = TAGGED[kind]()
    assert any(secret in data for secret in SECRETS[1:5])  # the fixture does carry secrets
    processed = process(data)
    assert set(processed.variants) == {"large", "medium", "medium_jpeg", "thumb"}
    for name, variant in processed.variants.items():
        for secret in SECRETS:
            assert secret not in variant.data, (name, secret)
        if variant.content_type == "image/webp":
            assert webp_chunks(variant.data) <= {b"VP8 ", b"VP8L", b"VP8X", b"ALPH"}
        else:  # no APPn segment (EXIF, XMP, ICC) and no COM
            assert not [m for m in jpeg_markers(variant.data) if 0xE1 <= m <= 0xEF or m == 0xFE]
        out = Image.open(io.BytesIO(variant.data))
        assert not out.getexif(), name
        assert not {"exif", "xmp", "icc_profile", "comment"} & set(out.info), name


def test_orientation_is_applied():
    data = tagged_jpeg()
    assert Image.open(io.BytesIO(data)).getexif().get_ifd(0x8825)[1] == "N"  # GPS is there
    processed = process(data)
    assert (processed.width, processed.height) == (200, 300)
    for name, variant in processed.variants.items():
        out = Image.open(io.BytesIO(variant.data)).convert("RGB")
        assert out.size == (variant.width, variant.height) and out.width < out.height
        top = out.getpixel((out.width // 2, out.height // 4))  # the red left half, now on top
        bottom = out.getpixel((out.width // 2, 3 * out.height // 4))
        assert top[0] > 200 and top[2] < 60, (name, top)
        assert bottom[2] > 200 and bottom[0] < 60, (name, bottom)


def test_variant_sizes_follow_the_longest_side_and_never_upscale():
    big = process(encode(Image.new("RGB", (3000, 1500), "green"), "PNG"))
    assert {n: (v.width, v.height) for n, v in big.variants.items()} == {
        "large": (1200, 600), "medium": (480, 240), "medium_jpeg": (480, 240),
        "thumb": (160, 80)}
    small = process(encode(Image.new("RGB", (100, 50), "green"), "PNG"))
    assert {(v.width, v.height) for v in small.variants.values()} == {(100, 50)}


def test_keys_are_content_addressed_and_deterministic():
    data = encode(noise((600, 450)), "PNG")
    first, second = process(data), process(data)
    assert first.record() == second.record()
    assert first.key == hashlib.sha256(data).hexdigest()
    for variant in first.variants.values():
        digest = hashlib.sha256(variant.data).hexdigest()
        ext = "webp" if variant.content_type == "image/webp" else "jpg"
        assert variant.key == f"img/{digest[:2]}/{digest[2:]}.{ext}"
        assert KEY_PATTERN.fullmatch(variant.key) and variant.size == len(variant.data)
    assert len({v.key for v in first.variants.values()}) == 4


def test_transparency_kept_in_webp_and_flattened_on_white_in_jpeg():
    im = Image.new("RGBA", (40, 40), (0, 0, 0, 0))
    im.paste((255, 0, 0, 255), (0, 0, 20, 40))
    processed = process(encode(im, "PNG"))
    webp = Image.open(io.BytesIO(processed.variants["medium"].data))
    assert webp.mode == "RGBA"
    assert webp.getpixel((35, 20))[3] == 0 and webp.getpixel((5, 20))[3] == 255
    jpeg = Image.open(io.BytesIO(processed.variants["medium_jpeg"].data))
    assert jpeg.mode == "RGB" and min(jpeg.getpixel((35, 20))) > 240  # white, not black
    assert jpeg.getpixel((5, 20))[0] > 200 and jpeg.getpixel((5, 20))[1] < 60


def test_sixteen_bit_grey_is_scaled_and_cmyk_converted():
    grey = process(encode(Image.new("I;16", (20, 20), 40000), "PNG")).variants["thumb"]
    assert 140 < Image.open(io.BytesIO(grey.data)).convert("L").getpixel((10, 10)) < 175
    cmyk = process(encode(Image.new("CMYK", (30, 30), (0, 255, 255, 0)), "JPEG"))
    red = Image.open(io.BytesIO(cmyk.variants["thumb"].data)).convert("RGB").getpixel((15, 15))
    assert red[0] > 200 and red[1] < 60 and red[2] < 60


def test_bombs_and_pixel_caps_are_refused_before_decoding():
    bomb = png_header_only(50_000, 50_000, zlib.compress(b"\x00" * 6251 * 8, 9))
    assert len(bomb) < 4096
    with pytest.raises(ImageTooLarge) as caught:
        process(bomb)
    assert caught.value.status == 422 and "too large" in caught.value.reason
    # 8000×6000 is under Pillow's limit but over ours; the IDAT is garbage, so decoding it
    # would have reported a damaged image instead.
    with pytest.raises(ImageTooLarge):
        process(png_header_only(8000, 6000, b"not zlib at all"))
    small = encode(Image.new("RGB", (100, 100), "red"), "PNG")
    with pytest.raises(ImageTooLarge):
        process(small, max_pixels=9_999)
    assert process(small, max_pixels=10_000).width == 100
    assert Image.MAX_IMAGE_PIXELS == int(1024 * 1024 * 1024 // 4 // 3)  # global left alone


@pytest.mark.parametrize("warning_action, max_pixels", [
    ("error", 200_000_000),  # Pillow's warning raised as an error is mapped, even above our cap
    ("ignore", 40_000_000),  # a warning that is only logged: our own cap still refuses
])
def test_pillow_bomb_warning_range_is_refused_either_way(warning_action, max_pixels):
    header = png_header_only(10_000, 10_000, b"\x00")  # 100 MP: Pillow warns, not raises
    with warnings.catch_warnings():
        warnings.simplefilter(warning_action, Image.DecompressionBombWarning)
        with pytest.raises(ImageTooLarge):
            process(header, max_pixels=max_pixels)


def test_truncated_images_are_refused():
    assert ImageFile.LOAD_TRUNCATED_IMAGES is False
    jpeg, png = encode(noise((256, 256)), "JPEG"), encode(noise((128, 128)), "PNG")
    for damaged in (jpeg[: len(jpeg) // 2], png[: len(png) // 2]):
        with pytest.raises(UnsupportedImage, match="damaged or incomplete"):
            process(damaged)


@pytest.mark.parametrize("make, expected", [
    (lambda: b"<!DOCTYPE html><html><script>alert(1)</script></html>", "SVG and HTML files"),
    (lambda: b'\xef\xbb\xbf<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" '
             b'onload="alert(1)"/>', "SVG and HTML files"),
    (lambda: encode(Image.new("RGB", (8, 8), "red"), "TIFF"), "TIFF files"),
    (lambda: b"8BPS" + struct.pack(">H6xHIIHH", 1, 3, 10, 10, 8, 3), "Photoshop (PSD) files"),
    (lambda: encode(Image.new("RGB", (8, 8), "red"), "EPS"), "PostScript (EPS) files"),
    (lambda: encode(Image.new("RGB", (8, 8), "red"), "BMP"), "BMP files"),
    (lambda: b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\x00" * 64, "HEIC/AVIF"),
    (lambda: os.urandom(512), f"This file is not a {ACCEPTED} image"),
    (lambda: b"", "The file is empty"),
])
def test_other_types_are_refused_with_a_clear_message(make, expected):
    with pytest.raises(UnsupportedImage) as caught:
        process(make())
    assert caught.value.status == 422 and caught.value.reason.startswith(expected)


def test_html_named_jpg_is_refused_from_its_content(tmp_path):
    path = tmp_path / "x.jpg"
    path.write_bytes(b"<html><body onload=alert(1)>hi</body></html>")
    with path.open("rb") as upload, pytest.raises(UnsupportedImage) as caught:
        process(upload)
    assert caught.value.reason == (
        f"SVG and HTML files are not accepted: upload a {ACCEPTED} image.")


def test_oversize_upload_is_refused_first_and_streams_are_not_read_past_the_cap():
    class CountingStream(io.BytesIO):
        def read(self, size=-1):
            self.requested = size
            return super().read(size)

    data = encode(Image.new("RGB", (10, 10), "red"), "PNG")
    stream = CountingStream(data + b"\x00" * 10 * MB)
    with pytest.raises(UploadTooLarge) as caught:
        process(stream, alt="")  # size is checked before alt
    assert caught.value.status == 413 and "10 MB" in caught.value.reason
    assert stream.requested == 10 * MB + 1
    with pytest.raises(UploadTooLarge):
        process(data, max_bytes=len(data) - 1)
    assert process(data, max_bytes=len(data)).width == 10


@pytest.mark.parametrize("alt, expected", [
    ("", None), ("   \n\t", None), (None, None), ("x" * 301, None), ("y" * 300, "y" * 300),
    ("  Two   dancers\n at dusk ", "Two dancers at dusk"),
])
def test_alt_text_is_required_bounded_and_collapsed(alt, expected):
    data = encode(Image.new("RGB", (4, 4)), "PNG")
    if expected is None:
        with pytest.raises(InvalidAlt) as caught:
            process(data, alt=alt)
        assert caught.value.status == 422
    else:
        assert process(data, alt=alt).alt == expected


def test_animated_gif_keeps_its_first_frame():
    frames = [Image.new("RGB", (40, 30), colour) for colour in ("red", "lime", "blue")]
    data = encode(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=100)
    assert Image.open(io.BytesIO(data)).n_frames == 3
    out = Image.open(io.BytesIO(process(data).variants["medium"].data))
    assert getattr(out, "n_frames", 1) == 1
    pixel = out.convert("RGB").getpixel((20, 15))
    assert pixel[0] > 200 and pixel[1] < 60 and pixel[2] < 60


def test_gif_with_a_huge_frame_count_costs_one_frame(monkeypatch):
    def no_counting(self):
        raise AssertionError("frames were counted or walked")

    for name in ("n_frames", "is_animated"):
        monkeypatch.setattr(GifImagePlugin.GifImageFile, name, property(no_counting))
    started = time.perf_counter()
    processed = process(gif_with_frames(200_000))
    assert time.perf_counter() - started < 2
    assert (processed.width, processed.height) == (1, 1)


@pytest.mark.parametrize("error, status", [
    (UploadTooLarge, 413), (UnsupportedImage, 422), (ImageTooLarge, 422), (InvalidAlt, 422),
    (MediaNotFound, 404), (StorageError, 503), (lambda m: MediaError(m, 418), 418),
])
def test_errors_carry_their_status_and_message(error, status):
    raised = error("msg")
    assert isinstance(raised, MediaError) and (raised.status, raised.reason) == (status, "msg")


def test_served_content_type_comes_from_our_own_keys_only():
    assert guess_served_content_type(WEBP_KEY) == "image/webp"
    assert guess_served_content_type(WEBP_KEY.replace(".webp", ".jpg")) == "image/jpeg"
    for key in ("img/a.svg", "img/a.html", "img/a.webp\n", "../a.jpg", "", "img/A.JPG"):
        with pytest.raises(MediaNotFound):
            guess_served_content_type(key)


# --- storage ------------------------------------------------------------------------------
