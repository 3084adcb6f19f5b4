"""Uploads are judged by what they contain, not by their name."""

from __future__ import annotations

import io

import pillow_heif
import pytest
from PIL import Image

from server.requests.media import process_image
from server.shared.errors import InvalidInput


def jpeg_with_exif(orientation: int = 6) -> bytes:
    image = Image.new("RGB", (400, 200), "red")
    exif = Image.Exif()
    exif[0x0112] = orientation  # rotate 90° when shown
    exif[0x010F] = "PhoneMaker"  # camera make: personal data we must drop
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif)
    return out.getvalue()


def test_photo_is_reencoded_upright_without_exif() -> None:
    result = process_image(jpeg_with_exif())
    assert (result.width, result.height) == (200, 400)
    with Image.open(io.BytesIO(result.data)) as stored:
        assert stored.format == "JPEG"
        assert not stored.getexif()


def test_text_file_named_like_a_photo_is_refused() -> None:
    with pytest.raises(InvalidInput) as error:
        process_image(b"<?php echo 'hi'; ?>" * 10)
    assert "не похож на изображение" in error.value.fields["photos"]


def test_decompression_bomb_is_refused_before_decoding() -> None:
    out = io.BytesIO()
    Image.new("1", (20_000, 20_000)).save(out, "PNG")  # tiny file, 400 megapixels
    assert len(out.getvalue()) < 2_000_000
    with pytest.raises(InvalidInput) as error:
        process_image(out.getvalue())
    assert "Слишком большое изображение" in error.value.fields["photos"]


def test_oversized_file_is_refused() -> None:
    with pytest.raises(InvalidInput) as error:
        process_image(b"\xff\xd8" + b"0" * (16 * 1024 * 1024))
    assert "больше 15 МБ" in error.value.fields["photos"]


def test_truncated_jpeg_is_refused() -> None:
    data = jpeg_with_exif()[:300]
    with pytest.raises(InvalidInput):
        process_image(data)


def test_large_photo_is_shrunk_for_storage() -> None:
    out = io.BytesIO()
    Image.new("RGB", (6000, 4000), "blue").save(out, "JPEG")
    result = process_image(out.getvalue())
    assert max(result.width, result.height) == 2560


def test_heic_photo_from_a_phone_is_reencoded_as_jpeg_without_exif() -> None:
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"
    out = io.BytesIO()
    pillow_heif.from_pillow(Image.new("RGB", (400, 200), "red")).save(
        out, format="HEIF", exif=exif.tobytes()
    )
    assert out.getvalue()[4:12] == b"ftypheic"
    result = process_image(out.getvalue())
    assert (result.width, result.height) == (400, 200)
    with Image.open(io.BytesIO(result.data)) as stored:
        assert stored.format == "JPEG"
        assert not stored.getexif()
