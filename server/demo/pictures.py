"""The pictures the demo needs: photographed work orders (with or without their QR code) and
stand-ins for residents' phone photos."""

from __future__ import annotations

import io
import random
from pathlib import Path

import qrcode
from PIL import Image, ImageDraw, ImageFont


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    for path in (
        "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
        "/usr/share/fonts/dejavu/DejaVuSans.ttf",
        "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
    ):
        if Path(path).exists():
            return ImageFont.truetype(path, size)
    return ImageFont.load_default(size=size)


def signed_work_order(number: str, address: str, category: str, url: str | None) -> bytes:
    """A photographed work order: text, the QR code (unless torn off) and a signature."""
    page = Image.new("RGB", (1000, 1400), "white")
    draw = ImageDraw.Draw(page)
    title, body = _font(40), _font(26)
    draw.text((60, 70), "ЗАКАЗ-НАРЯД", fill="black", font=title)
    draw.text((60, 130), f"№ {number}", fill="black", font=body)
    if url is not None:
        qr = qrcode.make(url, box_size=8, border=4).get_image().convert("RGB")
        page.paste(qr, (1000 - qr.width - 40, 40))
    y = 420
    for line in (f"Адрес: {address}", f"Работы: {category}", "", "Работы выполнены.",
                 "Претензий к качеству не имею.", "", "Подпись жителя:"):  # fmt: skip
        draw.text((60, y), line, fill="black", font=body)
        y += 50
    draw.line([(330, y - 20), (420, y - 70), (500, y - 10), (600, y - 60), (680, y - 25)],
              fill="navy", width=5)  # fmt: skip
    photo = page.rotate(2, expand=True, fillcolor="#d8d4cc")
    out = io.BytesIO()
    photo.save(out, "JPEG", quality=80)
    return out.getvalue()


def resident_photo(seed: int) -> bytes:
    """A stand-in for a resident's phone photo."""
    rng = random.Random(seed)
    image = Image.new("RGB", (960, 720), (rng.randint(150, 190),) * 3)
    draw = ImageDraw.Draw(image)
    for _i in range(14):
        x, y = rng.randint(0, 900), rng.randint(0, 660)
        shade = rng.randint(60, 130)
        draw.ellipse([x, y, x + rng.randint(40, 220), y + rng.randint(30, 160)],
                     fill=(shade, shade - 10, shade - 25))  # fmt: skip
    out = io.BytesIO()
    image.save(out, "JPEG", quality=80)
    return out.getvalue()
