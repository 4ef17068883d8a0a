"""Loading product photos: every kind of bad file a real catalog holds, generated in tmp_path."""

import hashlib
import io
import struct
import threading
import time
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageFile

from catalog.core.columns import THUMBNAIL_SIZE
from ingest import images
from ingest.images import ImageError, find_image, load_image, load_images

RED, BLUE, WHITE = (255, 0, 0), (0, 0, 255), (255, 255, 255)
SIZE = 64


def save(path: Path, image: Image.Image, **options) -> Path:
    image.save(path, **options)
    return path


def halves(width: int, height: int, left=RED, right=BLUE) -> Image.Image:
    """An image whose left half is one colour and right half another."""
    array = np.zeros((height, width, 3), np.uint8)
    array[:, : width // 2] = left
    array[:, width // 2 :] = right
    return Image.fromarray(array)


def noise(width: int, height: int, seed: int = 0) -> Image.Image:
    return Image.fromarray(np.random.default_rng(seed).integers(0, 256, (height, width, 3), dtype=np.uint8))


def png_header(width: int, height: int) -> bytes:
    """A valid PNG header that claims a size, followed by one tiny row of data and nothing else."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 16)) + chunk(b"IEND", b"")


def close_to(pixel, colour, tolerance=8) -> bool:
    return bool(np.all(np.abs(np.asarray(pixel, int) - np.asarray(colour, int)) <= tolerance))


# --- good files ---------------------------------------------------------------------------------


def test_resizes_to_square_without_keeping_aspect(tmp_path):
    loaded = load_image(save(tmp_path / "1.png", halves(200, 50)), size=SIZE)
    assert loaded.pixels.shape == (SIZE, SIZE, 3) and loaded.pixels.dtype == np.uint8
    # Stretched, not padded or cropped: the left half is red from top to bottom.
    assert close_to(loaded.pixels[0, 5], RED) and close_to(loaded.pixels[-1, 5], RED)
    assert close_to(loaded.pixels[0, -5], BLUE) and close_to(loaded.pixels[-1, -5], BLUE)


def test_thumbnail_keeps_aspect_and_hash_is_of_file_bytes(tmp_path):
    path = save(tmp_path / "1.jpg", noise(400, 200), quality=90)
    loaded = load_image(path, size=SIZE)
    thumbnail = Image.open(io.BytesIO(loaded.thumbnail))
    assert thumbnail.format == "JPEG" and thumbnail.size == (THUMBNAIL_SIZE, THUMBNAIL_SIZE // 2)
    assert loaded.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()


def test_png_bytes_in_a_jpg_file_decode_by_content(tmp_path):
    path = save(tmp_path / "1.jpg", halves(20, 20), format="PNG")
    loaded = load_image(path, size=SIZE)
    assert close_to(loaded.pixels[5, 5], RED, tolerance=0)


@pytest.mark.parametrize(
    "image, expected",
    [
        (Image.new("RGBA", (10, 10), (255, 0, 0, 0)), WHITE),  # fully transparent -> white background
        (Image.new("RGBA", (10, 10), (255, 0, 0, 255)), RED),
        (Image.new("LA", (10, 10), (0, 0)), WHITE),
        (Image.new("LA", (10, 10), (0, 255)), (0, 0, 0)),
        (Image.new("L", (10, 10), 100), (100, 100, 100)),
        (Image.new("1", (10, 10), 1), WHITE),
    ],
    ids=["rgba-clear", "rgba-opaque", "la-clear", "la-opaque", "grey", "bilevel"],
)
def test_colour_modes_become_rgb_with_alpha_on_white(tmp_path, image, expected):
    loaded = load_image(save(tmp_path / "1.png", image), size=SIZE)
    assert close_to(loaded.pixels[10, 10], expected, tolerance=1)


def test_palette_with_transparent_index_becomes_white(tmp_path):
    palette = Image.new("P", (10, 10), 1)
    palette.putpalette([255, 0, 0, 0, 0, 255] + [0] * 762)
    palette.putpixel((0, 0), 0)
    path = save(tmp_path / "1.png", palette, transparency=1)  # index 1 (blue) is transparent
    loaded = load_image(path, size=10)
    assert close_to(loaded.pixels[5, 5], WHITE, tolerance=0)
    assert close_to(loaded.pixels[0, 0], RED, tolerance=0)


def test_cmyk_jpeg(tmp_path):
    path = save(tmp_path / "1.jpg", Image.new("CMYK", (32, 32), (255, 0, 0, 0)), quality=95)
    assert Image.open(path).mode == "CMYK"
    assert close_to(load_image(path, size=SIZE).pixels[10, 10], (0, 255, 255))  # pure cyan


def test_sixteen_bit_grey_is_scaled_not_clipped(tmp_path):
    array = np.full((8, 8), 32896, np.uint16)  # 50% grey in 16 bits
    path = save(tmp_path / "1.png", Image.fromarray(array))
    assert Image.open(path).mode.startswith("I;16")
    assert close_to(load_image(path, size=8).pixels[4, 4], (128, 128, 128), tolerance=1)


def test_exif_orientation_is_applied(tmp_path):
    image = halves(40, 20)  # red left, blue right
    exif = image.getexif()
    exif[0x0112] = 6  # "rotate 90 degrees clockwise to display"
    loaded = load_image(save(tmp_path / "1.jpg", image, exif=exif.tobytes(), quality=95), size=SIZE)
    # After rotating clockwise, the left (red) half is on top.
    assert close_to(loaded.pixels[5, SIZE // 2], RED) and close_to(loaded.pixels[-5, SIZE // 2], BLUE)


def test_animated_gif_uses_first_frame(tmp_path):
    frames = [Image.new("RGB", (10, 10), RED), Image.new("RGB", (10, 10), BLUE)]
    path = save(tmp_path / "1.gif", frames[0], save_all=True, append_images=frames[1:], duration=100)
    assert Image.open(path).n_frames == 2
    assert close_to(load_image(path, size=SIZE).pixels[5, 5], RED)


@pytest.mark.parametrize("width, height", [(1, 1), (20000, 20), (20, 20000)])
def test_extreme_sizes(tmp_path, width, height):
    loaded = load_image(save(tmp_path / "1.png", noise(width, height)), size=SIZE)
    assert loaded.pixels.shape == (SIZE, SIZE, 3)
    thumbnail = Image.open(io.BytesIO(loaded.thumbnail))
    assert max(thumbnail.size) == min(THUMBNAIL_SIZE, max(width, height)) and min(thumbnail.size) >= 1


def test_large_jpeg_draft_decode_matches_full_decode(tmp_path):
    # Smooth content, like a photo: a draft (DCT-scaled) decode should agree with a full decode.
    gradient = np.linspace(0, 255, 2400, dtype=np.float64)
    array = np.stack(np.broadcast_arrays(gradient[None, :], gradient[:1600, None], 128 + 0 * gradient[None, :]), -1)
    path = save(tmp_path / "1.jpg", Image.fromarray(array.astype(np.uint8)), quality=90)
    loaded = load_image(path, size=256)
    full = np.asarray(Image.open(path).convert("RGB").resize((256, 256), Image.Resampling.BILINEAR))
    assert np.abs(loaded.pixels.astype(int) - full).mean() < 1.5


# --- bad files ----------------------------------------------------------------------------------


def reason(path: Path) -> str:
    with pytest.raises(ImageError) as caught:
        load_image(path, size=SIZE)
    return str(caught.value)


def test_empty_file(tmp_path):
    (tmp_path / "1.jpg").write_bytes(b"")
    assert reason(tmp_path / "1.jpg") == "file is empty"


def test_not_an_image(tmp_path):
    (tmp_path / "1.jpg").write_text("<html>404 Not Found</html>")
    assert reason(tmp_path / "1.jpg") == "not an image"


def test_missing_file(tmp_path):
    assert reason(tmp_path / "nope.jpg").startswith("cannot read file")


@pytest.mark.parametrize("fmt, keep", [("JPEG", 0.5), ("JPEG", 0.02), ("PNG", 0.5)])
def test_truncated_files_are_reported(tmp_path, fmt, keep):
    buffer = io.BytesIO()
    noise(200, 200).save(buffer, format=fmt)
    data = buffer.getvalue()
    path = tmp_path / "1.img"
    path.write_bytes(data[: int(len(data) * keep)])
    assert reason(path).startswith("truncated")


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "GIF", "WEBP"])
def test_corrupted_bytes_give_an_image_or_a_reason_never_a_crash(tmp_path, fmt):
    buffer = io.BytesIO()
    noise(64, 48).save(buffer, format=fmt)
    original = np.frombuffer(buffer.getvalue(), np.uint8)
    rng = np.random.default_rng(0)
    outcomes = set()
    for attempt in range(40):
        data = original.copy()
        positions = rng.integers(0, len(data), size=1 + attempt % 8)
        data[positions] = rng.integers(0, 256, size=len(positions))
        path = tmp_path / f"{attempt}.jpg"
        path.write_bytes(data.tobytes())
        try:
            outcomes.add(load_image(path, size=16).pixels.shape)
        except ImageError as exc:
            outcomes.add(str(exc).split(":")[0])
    assert outcomes <= {
        (16, 16, 3),
        "not an image",
        f"truncated {fmt}",
        f"corrupt {fmt}",
        "truncated image",
        "corrupt image",
    }


@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")  # pytest resets our filter
@pytest.mark.parametrize("width, height", [(10_000, 10_000), (60_000, 60_000)])
def test_decompression_bomb_is_rejected_from_its_header(tmp_path, monkeypatch, width, height):
    # 100 MP is over our cap (Pillow only warns); 3.6 GP is over Pillow's own hard limit.
    path = tmp_path / "1.png"
    path.write_bytes(png_header(width, height))
    decoded = []
    monkeypatch.setattr(ImageFile.ImageFile, "load", lambda self: decoded.append(self))
    assert reason(path).startswith("image too large")
    assert decoded == []  # not one pixel was decoded or allocated


# --- finding and loading many -------------------------------------------------------------------


def test_find_image_tries_usual_extensions(tmp_path):
    for name in ["1.jpg", "2.JPEG", "3.png", "4.WEBP"]:
        (tmp_path / name).write_bytes(b"x")
    (tmp_path / "5.jpg").mkdir()
    assert [find_image(tmp_path, i) for i in range(1, 7)] == [
        tmp_path / "1.jpg",
        tmp_path / "2.JPEG",
        tmp_path / "3.png",
        tmp_path / "4.WEBP",
        None,  # a directory is not a photo
        None,
    ]


def test_load_images_keeps_order_and_reports_problems_as_data(tmp_path):
    ids = list(range(100, 100 + 3 * images.LOOKAHEAD))
    for product_id in ids:
        if product_id % 3 == 0:
            (tmp_path / f"{product_id}.jpg").write_bytes(b"")
        elif product_id % 3 == 1:
            save(tmp_path / f"{product_id}.jpg", Image.new("RGB", (30, 20), (product_id, 0, 0)))
        # product_id % 3 == 2: no file at all
    ticks = []
    results = list(load_images(tmp_path, ids, size=16, workers=2, progress=ticks.append))
    assert [r[0] for r in results] == ids
    assert sum(ticks) == len(ids)
    for product_id, image, why in results:
        if product_id % 3 == 0:
            assert image is None and why == "file is empty"
        elif product_id % 3 == 1:
            assert why is None and close_to(image.pixels[8, 8], (product_id, 0, 0))
        else:
            assert image is None and why == "image file not found"


def test_load_images_decodes_a_bounded_number_ahead(tmp_path, monkeypatch):
    started = []
    lock = threading.Lock()

    def fake_load(path, size):
        with lock:
            started.append(path)
        return None

    monkeypatch.setattr(images, "load_image", fake_load)
    ids = list(range(1000))
    for product_id in ids:
        (tmp_path / f"{product_id}.jpg").write_bytes(b"x")
    stream = load_images(tmp_path, ids, workers=2)
    assert next(stream)[0] == 0
    time.sleep(0.2)  # give the pool every chance to run ahead
    assert len(started) <= images.LOOKAHEAD + 1
    stream.close()  # stopping early returns promptly and leaves no work queued
    count = len(started)
    time.sleep(0.1)
    assert len(started) == count
