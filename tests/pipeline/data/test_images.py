"""Image files as model input: grayscale, resized, inverted when dark on light, each step said; bombs refused."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from pipeline.data import images
from pipeline.data.images import image_files, read_image
from pipeline.errors import DataError


def _digit() -> np.ndarray:
    rng = np.random.default_rng(0)
    x = np.zeros((6, 6), np.uint8)
    x[1:5, 1:5] = rng.integers(150, 256, size=(4, 4))
    return x


def _read(path, shape=(6, 6)):
    steps = []
    pixels = read_image(path, shape, lambda step, name: steps.append((step, name)))
    return pixels, steps


def test_a_grayscale_image_of_the_right_size_is_read_as_it_is(tmp_path):
    Image.fromarray(_digit()).save(tmp_path / "a.png")
    pixels, steps = _read(tmp_path / "a.png")
    np.testing.assert_array_equal(pixels, _digit())
    assert pixels.dtype == np.uint8 and steps == []


def test_a_dark_drawing_on_white_in_colour_and_larger_comes_back_as_the_digit(tmp_path):
    big = np.kron(255 - _digit(), np.ones((10, 10), np.uint8))       # 60x60, dark on light
    Image.fromarray(big).convert("RGB").save(tmp_path / "drawing.png")
    pixels, steps = _read(tmp_path / "drawing.png")
    np.testing.assert_array_equal(pixels, _digit())
    assert [s for s, _ in steps] == ["RGB -> grayscale", "resized 60x60 -> 6x6",
                                     "inverted (dark on a light background; the model expects light on dark)"]
    assert {name for _, name in steps} == {"drawing.png"}


def test_transparent_background_counts_as_white(tmp_path):
    rgba = np.zeros((6, 6, 4), np.uint8)                               # transparent everywhere...
    rgba[..., 3] = (_digit() > 0) * 255                                # ...but a black digit
    Image.fromarray(rgba, "RGBA").save(tmp_path / "ink.png")
    pixels, steps = _read(tmp_path / "ink.png")
    np.testing.assert_array_equal(pixels, np.where(_digit() > 0, 255, 0))
    assert steps[0][0] == "RGBA -> grayscale, transparent pixels as white"


def test_sixteen_bit_grayscale_is_scaled_to_eight_bits(tmp_path):
    Image.fromarray(_digit().astype(np.uint16) * 257).save(tmp_path / "deep.png")
    pixels, steps = _read(tmp_path / "deep.png")
    np.testing.assert_array_equal(pixels, _digit())
    assert "8-bit grayscale" in steps[0][0]


def test_jpeg_is_read(tmp_path):
    Image.fromarray(np.kron(_digit(), np.ones((8, 8), np.uint8))).save(tmp_path / "a.jpg", quality=95)
    pixels, _ = _read(tmp_path / "a.jpg")
    assert np.abs(pixels.astype(int) - _digit()).max() <= 8           # lossy, but the same digit


def test_an_image_bomb_is_refused_before_its_pixels_are_decoded(tmp_path, monkeypatch):
    Image.new("L", (3000, 3000)).save(tmp_path / "huge.png")
    monkeypatch.setattr(images, "MAX_PIXELS", 1000 * 1000)
    decoded = []
    monkeypatch.setattr(Image.Image, "load", lambda self: decoded.append(1))
    with pytest.raises(DataError, match=r"huge.png' is 3000x3000 pixels, more than the 1,000,000 accepted"):
        _read(tmp_path / "huge.png")
    assert decoded == []


def test_directories_and_globs(tmp_path):
    for name in ("b.png", "a.jpg", "notes.txt"):
        (tmp_path / name).write_bytes(b"")
    assert [p.name for p in image_files(tmp_path)] == ["a.jpg", "b.png"]
    assert [p.name for p in image_files(str(tmp_path / "*.png"))] == ["b.png"]
    assert image_files(tmp_path / "notes.txt") is None                 # not an image: read elsewhere
    with pytest.raises(DataError, match=r"matches no files"):
        image_files(str(tmp_path / "*.gif"))
    (tmp_path / "text").mkdir()
    (tmp_path / "text" / "x.csv").write_text("1,2")
    with pytest.raises(DataError, match=r"directory '.*text' holds no PNG or JPEG images \(it has: x.csv\)"):
        image_files(tmp_path / "text")


def test_a_png_under_another_name_is_recognised_by_its_signature(tmp_path):
    Image.fromarray(_digit()).save(tmp_path / "digit.dat", format="PNG")
    assert image_files(tmp_path / "digit.dat") == [tmp_path / "digit.dat"]


def _png_header(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims ``width`` x ``height`` (8-bit gray) and that holds no pixels."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"")) + chunk(b"IEND", b"")


@pytest.mark.parametrize("side", [9000, 100_000])  # beyond our limit; beyond even Pillow's own
def test_a_header_claiming_a_huge_image_is_refused_with_one_line(tmp_path, side):
    (tmp_path / "bomb.png").write_bytes(_png_header(side, side))
    with pytest.raises(DataError, match=r"bomb.png' (is 9000x9000 pixels|has) more than|an image bomb") as info:
        _read(tmp_path / "bomb.png")
    assert "an image bomb?" in str(info.value) and "\n" not in str(info.value)
