"""Photo decoding: a file -> fixed-size RGB pixels and a JPEG thumbnail, robust to real-world files.

Part of the small core: ingest decodes catalog photos with it, and the read side decodes a query
photo (`query --image`, `infer --image`) with the same code, so both land in the same image space.
No TensorFlow here.
"""

from __future__ import annotations

import hashlib
import io
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from catalog.core.columns import IMAGE_SIZE, THUMBNAIL_SIZE

# Pillow's own default limit (~89.5 MP, a quarter GiB of RGBA pixels); anything larger is refused
# from the header alone, before a single pixel is decoded, so a decompression bomb costs no memory.
MAX_PIXELS = 89_478_485
# Pillow warns (and prints) for images between its limit and twice it; we refuse those ourselves and
# report the reason as data, so the warning would only be noise on the user's terminal.
warnings.filterwarnings("ignore", category=Image.DecompressionBombWarning)

# Formats a product photo can come in. Restricting Image.open to these keeps exotic plugins (EPS runs
# Ghostscript, for one) away from files that merely look like images. Phone photos with several
# pictures open through "JPEG" and come back as format "MPO".
IMAGE_FORMATS = ("JPEG", "PNG", "WEBP", "GIF", "BMP", "TIFF", "PPM")
IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".webp")
THUMBNAIL_QUALITY = 80

WHITE = (255, 255, 255)


class ImageError(Exception):
    """A file that cannot be used as a product photo; the message is a short reason."""


# eq=False: dataclass equality would compare the pixel arrays with `==` and fail; identity is enough.
@dataclass(frozen=True, eq=False)
class LoadedImage:
    pixels: np.ndarray  # uint8 (size, size, 3) RGB
    thumbnail: bytes  # JPEG, longest side THUMBNAIL_SIZE, aspect kept
    sha256: str  # of the source file's bytes


def photo_name(product_id: int, exists: Callable[[str], bool]) -> str | None:
    """The file name of a product's photo, `{id}.jpg` or another usual extension in either case,
    among the names `exists` accepts (one rule for a folder, a folder's listing and a bucket's)."""
    for extension in IMAGE_EXTENSIONS:
        for candidate in (extension, extension.upper()):
            if exists(name := f"{product_id}{candidate}"):
                return name
    return None


def find_image(images_dir: Path, product_id: int) -> Path | None:
    """The photo of a product in a folder, or None (one `is_file` per candidate name)."""
    name = photo_name(product_id, lambda candidate: (images_dir / candidate).is_file())
    return images_dir / name if name is not None else None


def load_image(path: Path | bytes, size: int = IMAGE_SIZE) -> LoadedImage:
    """Decode a photo into `size`x`size` RGB pixels (bilinear, aspect not kept) and a thumbnail.

    `path` may also be the photo's bytes (an upload to `catalog serve`): decoded by content, with
    the same checks. Raises ImageError with a short reason for anything that is not a usable image.
    """
    if isinstance(path, bytes):
        if not path:
            raise ImageError("file is empty")
        image = _decode(io.BytesIO(path), size)
        pixels = np.asarray(image.resize((size, size), Image.Resampling.BILINEAR), dtype=np.uint8)
        return LoadedImage(pixels=pixels, thumbnail=_thumbnail(image), sha256=hashlib.sha256(path).hexdigest())
    try:
        with open(path, "rb") as file:
            sha256 = hashlib.file_digest(file, "sha256").hexdigest()
            if file.tell() == 0:
                raise ImageError("file is empty")
            file.seek(0)
            image = _decode(file, size)
    except OSError as exc:  # the file itself: missing, unreadable, a directory...
        raise ImageError(f"cannot read file: {exc.strerror or exc}") from exc
    pixels = np.asarray(image.resize((size, size), Image.Resampling.BILINEAR), dtype=np.uint8)
    return LoadedImage(pixels=pixels, thumbnail=_thumbnail(image), sha256=sha256)


def _decode(file: io.BufferedReader, size: int) -> Image.Image:
    """Open, check, decode and normalise an image to RGB (orientation applied, alpha on white)."""
    # Malformed files make Pillow raise almost anything (OSError, SyntaxError, ValueError, struct.error,
    # IndexError...), while opening the header or while decoding; each means "this file is broken".
    try:
        image = Image.open(file, formats=IMAGE_FORMATS)
    except UnidentifiedImageError as exc:
        raise ImageError("not an image") from exc
    except Image.DecompressionBombError as exc:
        raise ImageError(f"image too large: over {2 * MAX_PIXELS // 1_000_000} megapixels") from exc
    except Exception as exc:
        raise _broken("image", exc) from exc
    width, height = image.size
    if width * height > MAX_PIXELS:
        raise ImageError(f"image too large: {width}x{height} is over {MAX_PIXELS // 1_000_000} megapixels")
    if image.format in ("JPEG", "MPO"):
        # libjpeg can decode straight to 1/2, 1/4 or 1/8 scale by dropping high DCT frequencies,
        # which skips most of the IDCT and colour-conversion work: an 1800x2400 photo decodes 2-3x
        # faster (42 -> 22 ms of CPU). Keeping at least twice the target size leaves the bilinear
        # resize enough detail that the result matches a full decode to within JPEG noise.
        image.draft("RGB", (size * 2, size * 2))
    try:
        image.load()
    except Exception as exc:
        raise _broken(image.format or "image", exc) from exc
    try:
        ImageOps.exif_transpose(image, in_place=True)  # not a copy: that would double a huge photo's peak
    # A broken EXIF block should not cost us an otherwise good photo: keep it unrotated.
    except Exception:
        pass
    return _to_rgb(image)


def _broken(kind: str, exc: Exception) -> ImageError:
    if "truncated" in str(exc).lower():
        return ImageError(f"truncated {kind}")
    return ImageError(f"corrupt {kind}: {exc}")


def _to_rgb(image: Image.Image) -> Image.Image:
    """Any Pillow mode -> 8-bit RGB; transparent pixels become white, like a product page background."""
    if image.mode in ("I", "I;16", "I;16B", "I;16L", "I;16N", "F"):
        # 16-bit (and 32-bit) grey: Pillow's own conversion clips at 255, turning most photos white.
        grey = np.asarray(image, dtype=np.float64)
        if image.mode.startswith("I;16") or grey.max() > 255:
            grey = grey / 257.0
        image = Image.fromarray(np.clip(np.rint(grey), 0, 255).astype(np.uint8))
    has_alpha = image.mode in ("RGBA", "RGBa", "LA", "La", "PA") or "transparency" in image.info
    try:
        if has_alpha:
            rgba = image.convert("RGBA")
            background = Image.new("RGBA", rgba.size, (*WHITE, 255))
            return Image.alpha_composite(background, rgba).convert("RGB")
        # convert() of an RGB image is a full copy: skip it (a huge photo would briefly be held twice).
        return image if image.mode == "RGB" else image.convert("RGB")
    except ValueError as exc:  # e.g. LAB or HSV, which Pillow cannot convert to RGB
        raise ImageError(f"unsupported colour mode {image.mode}") from exc


def _thumbnail(image: Image.Image) -> bytes:
    """Shrinks `image` in place (its caller is done with it): a copy of an 89-megapixel photo would
    cost another quarter GiB at the peak."""
    image.thumbnail((THUMBNAIL_SIZE, THUMBNAIL_SIZE), Image.Resampling.BICUBIC)
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=THUMBNAIL_QUALITY)
    return buffer.getvalue()
