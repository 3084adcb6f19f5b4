"""Pictures of printed work orders, as a worker's phone would take them.

`draw_sheet` lays out an A4 sheet like web/templates/contractor/print.html (QR code 60 mm wide,
numbers, address, lines for the work and the signatures); browser tests use a screenshot of the
real print page instead. `photograph` turns either into a phone photo: signed with a scribble,
lying on a table, rotated a few degrees, unevenly lit, with fold shadows, shrunk and
JPEG-compressed. `mjpeg` writes frames for Chromium's fake camera.
"""

from __future__ import annotations

import io
import math
import random
from pathlib import Path

import qrcode
from PIL import Image, ImageChops, ImageDraw, ImageFilter, ImageFont

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
FONT_BOLD = "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"
DPI = 150
A4 = (round(210 / 25.4 * DPI), round(297 / 25.4 * DPI))  # 1240 × 1754


def _font(size: int, bold: bool = False) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    try:
        return ImageFont.truetype(FONT_BOLD if bold else FONT, size)
    except OSError:
        return ImageFont.load_default()


def qr_image(text: str, width_px: int) -> Image.Image:
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=4, box_size=1)
    code.add_data(text)
    code.make(fit=True)
    small = code.make_image().get_image().convert("L")
    scale = max(1, width_px // small.width)
    return small.resize((small.width * scale, small.height * scale), Image.NEAREST)


def draw_sheet(
    url: str | None,
    *,
    number: str = "2026-000001/1",
    address: str = "улица Ленина, 12, кв. 12",
    category: str = "Протечка трубы",
    resident: str = "Тест resident +7 917 000-00-01",
    description: str = "Течёт труба под раковиной на кухне.",
    contractor: str = "ООО «Сантехмонтаж»",
) -> Image.Image:
    """An A4 work order at 150 dpi; `url=None` leaves the QR code off (a photocopy, a draft)."""
    page = Image.new("RGB", A4, "white")
    draw = ImageDraw.Draw(page)
    margin = 90
    draw.text((margin, 90), f"Заказ-наряд №{number}", font=_font(40, bold=True), fill="black")
    draw.text((margin, 150), f"к заявке №{number.split('/')[0]}", font=_font(24), fill="black")
    if url is not None:
        qr = qr_image(url, round(60 / 25.4 * DPI))
        page.paste(qr, (A4[0] - margin - qr.width, 80))
        draw.rectangle(
            [A4[0] - margin - qr.width - 6, 74, A4[0] - margin + 6, 86 + qr.height], outline="black"
        )
    fields = [
        ("АДРЕС", address),
        ("КАТЕГОРИЯ", category),
        ("ЖИТЕЛЬ", resident),
        ("СРОК ВЫПОЛНЕНИЯ", "29 ноября 2026, 18:00"),
        ("ПОДРЯДЧИК", contractor),
        ("ОПИСАНИЕ", description),
    ]
    y = 560
    for label, value in fields:
        draw.text((margin, y), label, font=_font(18, bold=True), fill="#444")
        draw.text((margin, y + 26), value, font=_font(28), fill="black")
        y += 90
        draw.line([(margin, y - 12), (A4[0] - margin, y - 12)], fill="#888", width=2)
    draw.text((margin, y + 20), "Выполненные работы", font=_font(28, bold=True), fill="black")
    for i in range(3):
        line_y = y + 120 + i * 70
        draw.line([(margin, line_y), (A4[0] - margin, line_y)], fill="black", width=2)
    y += 420
    half = A4[0] // 2
    for x0, caption in (
        (margin, "Исполнитель (подпись, ФИО)"),
        (half + 20, "Житель: работы принял (подпись, ФИО, дата)"),
    ):
        draw.line([(x0, y), (x0 + half - margin - 40, y)], fill="black", width=2)
        draw.text((x0, y + 10), caption, font=_font(18), fill="#333")
    return page


def sign(sheet: Image.Image, seed: int = 7) -> Image.Image:
    """Ballpoint scribbles: the work written in, two signatures and a date."""
    rng = random.Random(seed)
    signed = sheet.copy()
    draw = ImageDraw.Draw(signed)
    width, height = signed.size
    ink = (25, 35, 120)

    def scribble(x: float, y: float, length: float, amplitude: float) -> None:
        points = []
        steps = 40
        phase = rng.random() * math.pi
        for i in range(steps + 1):
            t = i / steps
            wobble = math.sin(t * math.pi * rng.uniform(5, 9) + phase) * amplitude
            points.append((x + t * length, y + wobble + rng.uniform(-2, 2)))
        draw.line(points, fill=ink, width=max(2, width // 400), joint="curve")

    for i in range(3):  # «Выполненные работы» written by hand
        scribble(width * 0.08, height * (0.735 + i * 0.04), width * rng.uniform(0.5, 0.8), 6)
    scribble(width * 0.10, height * 0.90, width * 0.25, 18)  # the worker's signature
    scribble(width * 0.55, height * 0.90, width * 0.28, 22)  # the resident's signature
    draw.text((width * 0.86, height * 0.885), "29.11", font=_font(width // 40), fill=ink)
    return signed


def photograph(
    sheet: Image.Image,
    *,
    angle: float = 4.0,
    seed: int = 1,
    quality: int = 70,
    longest_side: int = 2000,
) -> bytes:
    """A phone photo of the sheet: on a table, rotated, unevenly lit, creased, JPEG."""
    rng = random.Random(seed)
    paper = sheet.convert("RGB")
    # Creases: a crumpled page folds into soft grey ridges.
    creases = Image.new("L", paper.size, 255)
    crease_draw = ImageDraw.Draw(creases)
    for _ in range(4):
        x0, y0 = rng.uniform(0, paper.width), 0
        x1, y1 = rng.uniform(0, paper.width), paper.height
        crease_draw.line([(x0, y0), (x1, y1)], fill=rng.randint(170, 215), width=rng.randint(3, 8))
    creases = creases.filter(ImageFilter.GaussianBlur(6))
    paper = ImageChops.multiply(paper, Image.merge("RGB", [creases] * 3))

    table = (96, 78, 60)
    pad = paper.width // 8
    scene = Image.new("RGB", (paper.width + 2 * pad, paper.height + 2 * pad), table)
    scene.paste(paper, (pad, pad))
    scene = scene.rotate(angle, resample=Image.BICUBIC, expand=False, fillcolor=table)

    # Light from one side: a gradient from full to about 70 %.
    shade = Image.linear_gradient("L").resize(scene.size)
    if rng.random() < 0.5:
        shade = shade.transpose(Image.Transpose.ROTATE_180)
    shade = shade.point(lambda v: 255 - int(v * 0.3))
    scene = ImageChops.multiply(scene, Image.merge("RGB", [shade] * 3))
    scene = scene.filter(ImageFilter.GaussianBlur(0.8))

    scale = longest_side / max(scene.size)
    if scale < 1:
        scene = scene.resize(
            (round(scene.width * scale), round(scene.height * scale)), Image.LANCZOS
        )
    out = io.BytesIO()
    scene.save(out, "JPEG", quality=quality)
    return out.getvalue()


def camera_frames(
    sheet: Image.Image,
    around: tuple[int, int, int, int] | None = None,
    count: int = 20,
    size: tuple[int, int] = (640, 480),
) -> list[bytes]:
    """What a camera held over the QR code sees, a little shaky. `around` is the QR code's box
    on the sheet (left, top, right, bottom); by default the sheet's top right corner."""
    rng = random.Random(3)
    width, height = size
    if around is None:
        region_width = sheet.width // 2
        box = (sheet.width - region_width, 0, sheet.width, region_width * height // width)
    else:
        left, top, right, bottom = around
        side = max(right - left, bottom - top) * 1.6  # the code fills about 60 % of the view
        cx, cy = (left + right) / 2, (top + bottom) / 2
        box = (
            round(cx - side * width / height / 2),
            round(cy - side / 2),
            round(cx + side * width / height / 2),
            round(cy + side / 2),
        )
    canvas = Image.new("RGB", sheet.size, "white")
    canvas.paste(sheet.convert("RGB"))
    region = canvas.crop(box)  # outside the sheet crop() pads with black: the table
    frames = []
    table = (96, 78, 60)
    for _ in range(count):
        dx, dy = rng.randint(-8, 8), rng.randint(-8, 8)
        frame = Image.new("RGB", size, table)
        shot = region.resize((width - 40, height - 30), Image.LANCZOS)
        shot = shot.rotate(rng.uniform(-3, 3), fillcolor=table)
        frame.paste(shot, (20 + dx, 15 + dy))
        out = io.BytesIO()
        frame.save(out, "JPEG", quality=80)
        frames.append(out.getvalue())
    return frames


def mjpeg(frames: list[bytes], path: Path) -> Path:
    """Chromium's --use-file-for-fake-video-capture reads concatenated JPEG frames."""
    path.write_bytes(b"".join(frames))
    return path
