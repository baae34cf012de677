"""Image files (PNG, JPEG) as model input: found by directory or glob, read with Pillow.

Each file becomes one grayscale uint8 image of the model's shape, light on dark
as MNIST is. What was done to a file (colour to grayscale, resizing, inversion)
is reported, never silent; a file too large to be a digit (an "image bomb") is
refused before its pixels are decoded.
"""

from __future__ import annotations

import glob
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np

from pipeline.errors import DataError

#: Suffixes taken from a directory or a glob.
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")
#: File signatures of the formats read here (a PNG named ``.dat`` is still a PNG).
_SIGNATURES = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff")
#: Largest image accepted, in pixels (8000 x 8000): checked from the header, before decoding.
MAX_PIXELS = 64_000_000
#: A border brighter than this (0-255) means a dark drawing on a light background.
LIGHT_BORDER = 127.5


def is_image_file(path: Path) -> bool:
    """Whether ``path`` is a PNG or JPEG file, by its first bytes."""
    try:
        with open(path, "rb") as f:
            head = f.read(8)
    except OSError:
        return False
    return any(head.startswith(sig) for sig in _SIGNATURES)


def _has_glob(spec: str) -> bool:
    return any(ch in spec for ch in "*?[")


def image_files(spec: str | Path) -> list[Path] | None:
    """The image files ``spec`` names: a glob, a directory, or one PNG/JPEG file.

    Returns
    -------
    list of Path or None
        Sorted files; None when ``spec`` is a single file that is not an image
        (an IDX, ``.npy`` or ``.npz`` file is read elsewhere).

    Raises
    ------
    DataError
        A glob that matches nothing, or a directory or glob without images.
    """
    text = str(spec)
    if _has_glob(text) and not Path(text).exists():
        matches = [Path(p) for p in sorted(glob.glob(text, recursive=True)) if Path(p).is_file()]
        if not matches:
            raise DataError(f"'{text}' matches no files; give a glob of .png/.jpg files, a directory, "
                            f"or an IDX, .npy or .npz file")
        return _only_images(matches, f"the files matching '{text}'")
    path = Path(text)
    if path.is_dir():
        entries = sorted(p for p in path.iterdir() if not p.name.startswith("."))
        return _only_images(entries, f"directory '{path}'")
    if path.is_file() and (path.suffix.lower() in IMAGE_SUFFIXES or is_image_file(path)):
        return [path]
    return None


def _only_images(files: list[Path], where: str) -> list[Path]:
    images = [p for p in files if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES]
    if not images:
        shown = ", ".join(p.name + ("/" if p.is_dir() else "") for p in files[:5]) + (", ..." if len(files) > 5 else "")
        found = f"it has: {shown}" if files else "it is empty"
        if any(p.name == "model.json" for p in files):
            found += " (a run directory: give it as the MODEL, the images second)"
        raise DataError(f"{where} holds no PNG or JPEG images ({found}); give a directory of .png/.jpg "
                        f"files, a glob like 'digits/*.png', or an IDX, .npy or .npz file")
    return images


def read_image(path: Path, shape: tuple[int, int], note: Callable[[str, str], None]) -> np.ndarray:
    """One image file as a grayscale, light-on-dark uint8 array of ``shape``.

    Parameters
    ----------
    path : Path
        A PNG or JPEG file.
    shape : tuple of int
        The model's ``(height, width)``.
    note : callable
        ``note(step, file_name)`` is called for each conversion made.

    Returns
    -------
    ndarray of uint8, shape ``shape``

    Raises
    ------
    DataError
        Unreadable, too large, or an image mode that has no grayscale meaning.
    """
    from PIL import Image, UnidentifiedImageError

    try:
        with warnings.catch_warnings():
            # Pillow warns (or raises, above twice its limit) about huge images itself; the size is
            # checked here first, with our own lower limit, so its warning would only repeat it
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(path) as img:  # reads the header only
                _check_size(path, img.size, shape)
                img.load()
                gray = _grayscale(img, path, note)
    except Image.DecompressionBombError:  # far beyond even Pillow's own limit: refused while opening
        raise DataError(f"'{path}' has more than {MAX_PIXELS:,} pixels (an image bomb?); crop or shrink it "
                        f"to about {shape[1]}x{shape[0]}") from None
    except (UnidentifiedImageError, OSError) as exc:
        raise DataError(f"'{path}' is not a readable PNG or JPEG image: {' '.join(str(exc).split())}") from None
    if gray.size != (shape[1], shape[0]):
        note(f"resized {gray.size[0]}x{gray.size[1]} -> {shape[1]}x{shape[0]}", path.name)
        # shrinking: the mean of each covered area (no ringing; an image enlarged by a whole
        # factor comes back exactly); enlarging: Lanczos
        shrink = gray.size[0] >= shape[1] and gray.size[1] >= shape[0]
        gray = gray.resize((shape[1], shape[0]), Image.Resampling.BOX if shrink else Image.Resampling.LANCZOS)
    pixels = np.asarray(gray, dtype=np.uint8)
    if _border_mean(pixels) > LIGHT_BORDER:
        note("inverted (dark on a light background; the model expects light on dark)", path.name)
        pixels = 255 - pixels
    return pixels


def _check_size(path: Path, size: tuple[int, int], shape: tuple[int, int]) -> None:
    """Refuse an image of more than :data:`MAX_PIXELS` pixels (known from its header)."""
    width, height = size
    if width * height > MAX_PIXELS:
        raise DataError(f"'{path}' is {width}x{height} pixels, more than the {MAX_PIXELS:,} accepted "
                        f"(an image bomb?); crop or shrink it to about {shape[1]}x{shape[0]}")


def _grayscale(img, path: Path, note: Callable[[str, str], None]):
    """``img`` as mode ``L``; transparency is laid over white (a drawing on no background)."""
    from PIL import Image

    mode = img.mode
    if mode == "L":
        return img
    if mode in ("1", "P", "RGB", "CMYK", "YCbCr", "LAB", "HSV", "LA", "RGBA", "PA", "La", "RGBa"):
        if mode in ("LA", "RGBA", "PA", "La", "RGBa") or (mode == "P" and "transparency" in img.info):
            rgba = img.convert("RGBA")
            white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
            img = Image.alpha_composite(white, rgba)
            note(f"{mode} -> grayscale, transparent pixels as white", path.name)
        else:
            note(f"{mode} -> grayscale", path.name)
        return img.convert("L")
    if mode.startswith("I"):  # 16- or 32-bit grayscale: scale its range to 0-255
        values = np.asarray(img, dtype=np.float64)
        top = 65535.0 if values.max() > 255 else 255.0
        note(f"{mode} ({int(top) + 1} levels) -> 8-bit grayscale", path.name)
        return Image.fromarray(np.clip(np.round(values * (255.0 / top)), 0, 255).astype(np.uint8))
    raise DataError(f"'{path}': image mode {mode} has {len(img.getbands())} channels and no grayscale "
                    f"meaning; save it as grayscale or RGB PNG")


def _border_mean(pixels: np.ndarray) -> float:
    """Mean of the outermost rows and columns (0-255)."""
    border = np.concatenate([pixels[0], pixels[-1], pixels[:, 0], pixels[:, -1]])
    return float(border.mean())


def read_image_files(files: list[Path], shape: tuple[int, int],
                     note: Callable[[str, str], None]) -> np.ndarray:
    """Every file as :func:`read_image` reads it: uint8 ``(len(files), *shape)``."""
    return np.stack([read_image(p, shape, note) for p in files])
