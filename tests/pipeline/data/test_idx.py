"""IDX reading and writing: round trips, every corruption family, directory discovery."""

import gzip

import numpy as np
import pytest

from pipeline.errors import DataError
from pipeline.data.idx import find_idx_files, parse_idx, read_idx, write_idx
from tests.datasets import idx_bytes, make_images, write_idx_dataset


@pytest.mark.parametrize("name", ["images-idx3-ubyte", "images-idx3-ubyte.gz"])
@pytest.mark.parametrize("shape", [(6, 6), (5, 9), (28, 28)])
def test_round_trip_images(tmp_path, name, shape):
    x, _ = make_images(n_per_class=4, classes=3, shape=shape)
    path = write_idx(tmp_path / name, x)
    assert (path.read_bytes()[:2] == b"\x1f\x8b") == name.endswith(".gz")
    back = read_idx(path)
    assert back.dtype == np.uint8 and back.shape == (12, *shape)
    np.testing.assert_array_equal(back, x)


def test_round_trip_labels_and_other_types(tmp_path):
    y = np.arange(250, dtype=np.uint8)
    np.testing.assert_array_equal(read_idx(write_idx(tmp_path / "l.gz", y)), y)
    for dtype in (np.int8, np.int16, np.int32, np.float32, np.float64):
        a = (np.arange(24).reshape(2, 3, 4) - 5).astype(dtype)
        back = read_idx(write_idx(tmp_path / f"{np.dtype(dtype).name}.idx", a))
        assert back.dtype == np.dtype(dtype) and back.dtype.isnative
        np.testing.assert_array_equal(back, a)


def test_write_is_deterministic_and_independent_encoder_agrees(tmp_path):
    x, _ = make_images()
    a, b = write_idx(tmp_path / "a.gz", x), write_idx(tmp_path / "b.gz", x)
    assert a.read_bytes() == b.read_bytes()
    assert gzip.decompress(a.read_bytes()) == idx_bytes(x)  # same bytes as the test helper's encoder


def test_write_rejects_unsupported_dtype(tmp_path):
    with pytest.raises(ValueError, match="uint16"):
        write_idx(tmp_path / "x", np.zeros(3, dtype=np.uint16))


def test_reads_mnist_magic_numbers(tmp_path):
    x, y = make_images(2, 2)
    (tmp_path / "img").write_bytes(idx_bytes(x))
    (tmp_path / "lab").write_bytes(idx_bytes(y))
    assert (tmp_path / "img").read_bytes()[:4] == (0x0803).to_bytes(4, "big")
    assert (tmp_path / "lab").read_bytes()[:4] == (0x0801).to_bytes(4, "big")
    assert read_idx(tmp_path / "img").shape == (4, 6, 6)
    assert read_idx(tmp_path / "lab").shape == (4,)


def _corrupt(tmp_path, name, data):
    path = tmp_path / name
    path.write_bytes(data)
    with pytest.raises(DataError) as info:
        read_idx(path)
    assert name in str(info.value)
    return str(info.value)


def test_wrong_magic(tmp_path):
    good = idx_bytes(np.zeros((2, 3, 3), np.uint8))
    assert "magic" in _corrupt(tmp_path, "bad-type", good[:2] + b"\x07" + good[3:])
    assert "magic" in _corrupt(tmp_path, "bad-zero", b"\x01" + good[1:])
    assert "magic" in _corrupt(tmp_path, "no-dims", good[:3] + b"\x00" + good[4:])
    assert "magic" in _corrupt(tmp_path, "text.gz", gzip.compress(b"hello world, not idx"))
    assert "too short" in _corrupt(tmp_path, "tiny", b"\x00\x00")


def test_truncated_payload_and_header(tmp_path):
    good = idx_bytes(np.zeros((2, 3, 3), np.uint8))
    assert "truncated" in _corrupt(tmp_path, "short", good[:-1])
    assert "truncated" in _corrupt(tmp_path, "short.gz", gzip.compress(good[:-5]))
    assert "header" in _corrupt(tmp_path, "cut-header", good[:9])


def test_header_payload_disagreement(tmp_path):
    good = idx_bytes(np.zeros((2, 3, 3), np.uint8))
    message = _corrupt(tmp_path, "long", good + b"\x00\x00")
    assert "longer" in message and "(2, 3, 3)" in message
    # Header claims 3 images, payload holds 2.
    claims_three = good[:4] + (3).to_bytes(4, "big") + good[8:]
    assert "truncated" in _corrupt(tmp_path, "count", claims_three)


def test_corrupt_and_truncated_gzip(tmp_path):
    packed = gzip.compress(idx_bytes(np.arange(200, dtype=np.uint8)))
    assert "truncated" in _corrupt(tmp_path, "cut.gz", packed[:-12])
    flipped = bytearray(packed)
    flipped[len(packed) // 2] ^= 0xFF
    assert "corrupt gzip" in _corrupt(tmp_path, "flip.gz", bytes(flipped))
    assert "not gzip" in _corrupt(tmp_path, "plain.gz", b"\x00\x00\x08\x01" + b"\x00" * 4)
    assert "unexpected bytes" in _corrupt(tmp_path, "tail.gz", packed + b"garbage")


def test_multi_member_gzip_and_missing_file(tmp_path):
    data = idx_bytes(np.arange(10, dtype=np.uint8))
    (tmp_path / "multi.gz").write_bytes(gzip.compress(data[:7]) + gzip.compress(data[7:]))
    np.testing.assert_array_equal(read_idx(tmp_path / "multi.gz"), np.arange(10))
    with pytest.raises(DataError, match="nope.gz.*does not exist"):
        read_idx(tmp_path / "nope.gz")


def test_uint8_result_views_the_file_bytes(tmp_path):
    path = write_idx(tmp_path / "x", np.zeros((3, 2, 2), np.uint8))
    assert not read_idx(path).flags.writeable  # no copy; stages never write into inputs anyway
    assert parse_idx(path.read_bytes()).shape == (3, 2, 2)


def test_find_idx_files(tmp_path):
    write_idx_dataset(tmp_path / "gz", gz=True)
    found = find_idx_files(tmp_path / "gz")
    assert sorted(found) == ["x", "x_test", "y", "y_test"]
    assert found["x"][0].name == "train-images-idx3-ubyte.gz" and found["x"][1].st_size > 0
    write_idx_dataset(tmp_path / "train-only", n_test_per_class=0, gz=False)
    assert sorted(find_idx_files(tmp_path / "train-only")) == ["x", "y"]
    (tmp_path / "gz" / "t10k-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(DataError, match="t10k-images-idx3-ubyte.gz but not t10k-labels"):
        find_idx_files(tmp_path / "gz")
    (tmp_path / "gz" / "train-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(DataError, match="missing train-labels-idx1-ubyte"):
        find_idx_files(tmp_path / "gz")
    with pytest.raises(DataError, match="no such directory"):
        find_idx_files(tmp_path / "absent")


def test_an_idx_source_given_a_file_names_its_directory(tmp_path):
    directory = write_idx_dataset(tmp_path, n_train_per_class=2, n_test_per_class=1, classes=2, shape=(4, 4))
    image_file = next(directory.glob("train-images*"))
    with pytest.raises(DataError, match=rf"idx:{image_file}: is a file; idx: takes the directory .* "
                                        rf"e\.g\. idx:{directory}$"):
        find_idx_files(image_file)
