"""What ``predict`` reads: arrays (IDX, ``.npy``, ``.npz``) or image files, as raw pixels the model knows.

Nothing is guessed. Images are flattened to the model's ``d`` pixels in the
units of its training data (0-255 for MNIST): float arrays in [0, 1] are
scaled up, 8-bit images are scaled to another range (digits' 0-16), and
anything whose values fit neither reading is refused with the range found.
Every conversion is reported through ``note(step, name)``.
"""

from __future__ import annotations

import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pipeline.errors import DataError

#: Kinds of array input, for messages.
ARRAY_INPUTS = "an IDX file (.gz ok), .npy or .npz"
#: Float maxima above 1 and below this are ambiguous: [0, 1] data that overshot, or raw pixels
#: of an image at under 1 % of full brightness. Neither reading can be trusted.
AMBIGUOUS_BELOW = 2.0

Note = Callable[[str, str], None]


class Notes:
    """Conversion steps, collected per step and said once each: ``RGB -> grayscale: a.png, b.png``."""

    def __init__(self) -> None:
        self.steps: dict[str, list[str]] = {}

    def __call__(self, step: str, name: str) -> None:
        self.steps.setdefault(step, []).append(name)

    def lines(self, shown: int = 3) -> list[str]:
        out = []
        for step, names in self.steps.items():
            more = f" (+{len(names) - shown} more)" if len(names) > shown else ""
            out.append(f"{step}: {', '.join(names[:shown])}{more}")
        return out


@dataclass(frozen=True)
class Inputs:
    """Images ready for a model: raw pixels float32 ``(n, d)``, a name per row, and whether they are files."""

    pixels: np.ndarray
    names: list[str]
    files: bool = False


def read_images(path: str | Path) -> np.ndarray:
    """Images from an IDX file (``.gz`` ok), an ``.npy`` or an ``.npz``; shape (n, ...) numeric."""
    images = _read_array(Path(path))
    if images.dtype.kind not in "uif" or images.ndim == 0 or images.shape[0] == 0:
        raise DataError(f"'{path}': expected numeric images (n, h, w) or (n, pixels), got dtype {images.dtype} "
                        f"and shape {images.shape}")
    if images.dtype.kind == "f" and not np.isfinite(images).all():
        raise DataError(f"'{path}': images hold NaN or infinite pixel values")
    return images


def _read_array(path: Path) -> np.ndarray:
    if not path.is_file():
        raise DataError(f"input file '{path}' does not exist; give {ARRAY_INPUTS}, a PNG/JPEG image, "
                        f"a directory of them or a glob")
    from pipeline.data.sources import numpy_file_kind

    if path.suffix in (".npy", ".npz") and numpy_file_kind(path) != path.suffix[1:]:
        raise DataError(f"'{path}' is not {'an' if path.suffix == '.npz' else 'a'} {path.suffix} file "
                        f"(wrong signature); give {ARRAY_INPUTS}")
    if path.suffix == ".npy":
        try:
            return np.load(path, allow_pickle=False)
        except (ValueError, OSError, EOFError) as exc:
            raise DataError(f"'{path}' is not a plain .npy array: {exc}") from None
    if path.suffix == ".npz":
        try:
            with np.load(path, allow_pickle=False) as npz:
                names = npz.files
                name = next((n for n in ("x_test", "x", "images", "x_train") if n in names),
                            names[0] if len(names) == 1 else None)
                if name is None:
                    raise DataError(f"'{path}' holds {names}; expected an array named x_test, x or images")
                return npz[name]
        except (ValueError, OSError, EOFError, zipfile.BadZipFile) as exc:
            raise DataError(f"'{path}' is not a readable npz file: {exc}") from None
    from pipeline.data.idx import read_idx

    return read_idx(path)


def flatten(images: np.ndarray, n_features: int, image_shape: tuple[int, int] | None, where: str,
            note: Note) -> np.ndarray:
    """``images`` as rows ``(n, n_features)``: a stack (n, h, w), rows (n, d) or one image (h, w).

    Raises
    ------
    DataError
        One-dimensional data (labels?), colour channels, or the wrong number of pixels.
    """
    shape_text = f" ({image_shape[0]}x{image_shape[1]} images)" if image_shape else ""
    if images.ndim == 1:
        raise DataError(f"'{where}' holds one-dimensional data of shape {images.shape}: labels, not images; "
                        f"give images as the INPUT (n, h, w) and labels with --labels FILE")
    if images.ndim >= 3 and images.shape[-1] in (3, 4) and image_shape \
            and tuple(images.shape[-3:-1]) == image_shape:
        raise DataError(f"'{where}' has {images.shape[-1]} colour channels (shape {images.shape}); the model "
                        f"reads one grayscale channel{shape_text}: convert the images to grayscale first")
    if images.ndim == 2 and image_shape and images.shape == image_shape and n_features != image_shape[1]:
        note(f"one {image_shape[0]}x{image_shape[1]} image", where)
        images = images[np.newaxis]
    x = images.reshape(images.shape[0], -1)
    if x.shape[1] != n_features:
        raise DataError(f"'{where}': input images have {x.shape[1]} pixels ({images.shape[1:]}), but the model "
                        f"was built for {n_features}{shape_text}")
    return x


def to_model_units(x: np.ndarray, pixel_max: float, where: str, note: Note) -> np.ndarray:
    """Pixels as float32 in the model's raw units ``[0, pixel_max]``, converting only the unambiguous.

    * integers within ``[0, pixel_max]``: as they are;
    * 8-bit integers beyond ``pixel_max`` (a model trained on another range): scaled from 0-255;
    * floats within ``[0, 1]`` when ``pixel_max > 1``: scaled by ``pixel_max``;
    * floats within ``[AMBIGUOUS_BELOW, pixel_max]`` at the top: as they are.

    Raises
    ------
    DataError
        Values below 0, above the model's range, or a float maximum in ``(1, AMBIGUOUS_BELOW)``.
    """
    lo, hi = float(x.min()), float(x.max())
    top = f"{pixel_max:g}"
    expected = f"raw pixels 0-{top} as the model was trained on" + (", or floats in [0, 1]" if pixel_max > 1 else "")
    if x.dtype.kind in "ui" and lo >= 0 and hi <= pixel_max:
        return x.astype(np.float32)
    if x.dtype == np.uint8 and pixel_max < 255:
        note(f"8-bit values 0-255 scaled to the model's 0-{top}", where)
        return x.astype(np.float32) * np.float32(pixel_max / 255.0)
    if lo < 0 or hi > pixel_max:
        raise DataError(f"'{where}': pixel values range from {lo:g} to {hi:g}, expected {expected}; "
                        f"rescale the images (standardized data cannot be read back)")
    if x.dtype.kind == "f" and pixel_max > 1 and hi <= 1:
        note(f"float values in [0, 1] scaled to 0-{top}", where)
        return np.multiply(x, np.float32(pixel_max), dtype=np.float32)
    if x.dtype.kind == "f" and pixel_max > 1 and hi < AMBIGUOUS_BELOW:
        raise DataError(f"'{where}': float pixel values range from {lo:g} to {hi:g}: neither floats in [0, 1] "
                        f"nor raw pixels 0-{top} clearly; clip to [0, 1] or give raw pixels")
    return x.astype(np.float32)


def read_inputs(spec: str | Path, n_features: int, image_shape: tuple[int, int] | None,
                pixel_max: float, note: Note) -> Inputs:
    """Read ``spec`` (array file, image file, directory or glob) for a model.

    Parameters
    ----------
    spec : str or Path
        What the user gave as INPUT.
    n_features : int
        Pixels per image the model reads.
    image_shape : tuple of int or None
        The model's ``(h, w)``; image files are resized to it.
    pixel_max : float
        The model's brightest raw pixel value.
    note : callable
        ``note(step, name)`` for every conversion made.
    """
    from pipeline.data.images import image_files, read_image_files

    files = image_files(spec)
    if files is not None:
        if image_shape is None:
            raise DataError(f"the model reads {n_features} pixels, not a rectangular image: give arrays, "
                            f"not image files")
        images = read_image_files(files, image_shape, note)
        x = to_model_units(images.reshape(len(files), -1), pixel_max, str(spec), note)
        return Inputs(x, [p.name for p in files], files=True)
    images = read_images(spec)
    x = flatten(images, n_features, image_shape, str(spec), note)
    return Inputs(to_model_units(x, pixel_max, str(spec), note), [str(i) for i in range(x.shape[0])])


def read_labels(path: str | Path, n: int) -> np.ndarray:
    """True labels for ``n`` images from an IDX file or ``.npy``: shape (n,).

    Raises
    ------
    DataError
        Not one-dimensional (images given as labels?), or not ``n`` of them.
    """
    labels = read_images(path) if Path(path).suffix != ".npz" else None
    if labels is None:
        raise DataError(f"--labels '{path}': give an IDX labels file (.gz ok) or a one-dimensional .npy")
    if labels.ndim != 1:
        raise DataError(f"--labels '{path}' holds shape {labels.shape}, which looks like images; "
                        f"labels are one-dimensional (n,), e.g. t10k-labels-idx1-ubyte.gz")
    if labels.shape[0] != n:
        raise DataError(f"--labels '{path}' holds {labels.shape[0]} labels for {n} images; give one per image")
    return labels
