"""Photos and scans: checked by content, re-encoded, stored under MEDIA_DIR with random names."""

from __future__ import annotations

import io
import re
import secrets
import tempfile
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pillow_heif
from PIL import Image, ImageOps, UnidentifiedImageError

from server.i18n import gettext as _
from server.shared.errors import InvalidInput
from server.shared.forms import MAX_UPLOADS, UPLOAD_LIMIT_BYTES

MAX_BYTES = UPLOAD_LIMIT_BYTES
MAX_PIXELS = 50_000_000  # a 50-megapixel photo is the largest a phone makes
MIN_SIDE = 64
MAX_SIDE = 12_000
STORED_LONGEST_SIDE = 2560
MAX_PHOTOS = MAX_UPLOADS
ALLOWED_FORMATS = {"JPEG", "PNG", "WEBP", "HEIF", "MPO", "GIF", "BMP", "TIFF"}

# The names `store` gives: 24 random bytes in URL-safe base64. Anything else is no stored file.
STORED_NAME = re.compile(r"[A-Za-z0-9_-]{32}\.jpg")

# Pillow's own guard, tightened: larger images are refused before they are decoded.
Image.MAX_IMAGE_PIXELS = MAX_PIXELS

# iPhones and many Android phones save photos as HEIC, which Pillow cannot read by itself.
# Only the main picture is ever decoded: never an embedded thumbnail (the QR check must read
# what was photographed), nor depth maps or other auxiliary images nobody looks at.
pillow_heif.register_heif_opener(thumbnails=False, depth_images=False, aux_images=False)


@dataclass(frozen=True, slots=True)
class ProcessedImage:
    data: bytes  # JPEG without EXIF, orientation applied
    width: int
    height: int
    image: Image.Image  # the decoded picture, e.g. for reading a QR code


def process_image(raw: bytes, field: str = "photos") -> ProcessedImage:
    """A real picture of sane size, or InvalidInput with a message for `field`."""
    if not raw:
        raise InvalidInput(**{field: _("Файл пустой.")})
    if len(raw) > MAX_BYTES:
        raise InvalidInput(**{field: _("Фотография больше 15 МБ.")})
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(raw)) as probe:
                if probe.format not in ALLOWED_FORMATS:
                    raise InvalidInput(**{field: _("Это не фотография (JPEG, PNG, WebP, HEIC).")})
                width, height = probe.size
                if width * height > MAX_PIXELS or max(width, height) > MAX_SIDE:
                    raise InvalidInput(**{field: _("Слишком большое изображение.")})
                if min(width, height) < MIN_SIDE:
                    raise InvalidInput(**{field: _("Слишком маленькое изображение.")})
                probe.load()
                image = ImageOps.exif_transpose(probe)
    except InvalidInput:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise InvalidInput(**{field: _("Слишком большое изображение.")}) from None
    except UnidentifiedImageError:
        raise InvalidInput(**{field: _("Файл не похож на изображение.")}) from None
    except (OSError, ValueError, SyntaxError):
        raise InvalidInput(**{field: _("Изображение повреждено.")}) from None
    image = image.convert("RGB")
    image.thumbnail((STORED_LONGEST_SIDE, STORED_LONGEST_SIDE))
    # Saving a fresh RGB image writes no EXIF: location and device details are dropped. Pillow
    # lets other threads run while it encodes only when it writes to a real file.
    with tempfile.TemporaryFile() as out:
        image.save(out, "JPEG", quality=85, optimize=True, progressive=True)
        out.seek(0)
        data = out.read()
    return ProcessedImage(data, image.width, image.height, image)


def process_images(raws: list[bytes], field: str = "photos") -> list[ProcessedImage]:
    """Every photo of a form, or InvalidInput for the first one that is not fit."""
    return [process_image(raw, field) for raw in raws]


def store(media_dir: Path, image: ProcessedImage) -> str:
    media_dir.mkdir(parents=True, exist_ok=True)
    name = secrets.token_urlsafe(24) + ".jpg"
    path = media_dir / name
    tmp = path.with_suffix(".part")
    tmp.write_bytes(image.data)
    tmp.replace(path)
    return name


def store_all(media_dir: Path, images: list[ProcessedImage]) -> list[str]:
    return [store(media_dir, image) for image in images]


def remove(media_dir: Path, names: list[str]) -> None:
    """Undo stored files when the transaction that would reference them fails."""
    for name in names:
        (media_dir / name).unlink(missing_ok=True)


@contextmanager
def removed_on_failure(media_dir: Path, names: list[str]) -> Iterator[None]:
    """Files stored before a transaction opens stay only if it commits."""
    try:
        yield
    except BaseException:
        remove(media_dir, names)
        raise


def is_stored_name(name: str) -> bool:
    return STORED_NAME.fullmatch(name) is not None


def media_path(media_dir: Path, name: str) -> Path | None:
    if not is_stored_name(name):
        return None
    path = media_dir / name
    return path if path.is_file() else None
