"""QR codes of work orders: what is printed, and reading it back from a photo."""

from __future__ import annotations

import re
from dataclasses import dataclass

import qrcode
import qrcode.image.svg
import zxingcpp
from PIL import Image, ImageOps

from server.i18n import gettext_lazy as _

JOB_PATH = "/jobs/"
_TOKEN = re.compile(r"/jobs/([A-Za-z0-9_-]{16,64})/?$")
_QR_CODES = zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.QRCode)


def job_url(base_url: str, token: str) -> str:
    return f"{base_url.rstrip('/')}{JOB_PATH}{token}"


def qr_svg(text: str) -> str:
    """An SVG QR code with quartile error correction: it survives a crumpled, signed page."""
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_Q, border=4)
    code.add_data(text)
    code.make(fit=True)
    image = code.make_image(image_factory=qrcode.image.svg.SvgPathImage)
    svg = image.to_string(encoding="unicode")
    # Let CSS size it: the print sheet makes it about 6 cm wide.
    return re.sub(r'(width|height)="[^"]*mm"', "", svg, count=2)


# What a check found, by status: the timeline stores the status and says it in the reader's
# language (lazy: worded when shown).
QR_REASONS = {
    "missing": _("На фото не найден QR-код заказ-наряда. Нужна проверка диспетчером."),
    "confirmed": _("QR-код заказ-наряда подтверждён"),
    "mismatch": _("На фото QR-код другого заказ-наряда. Нужна проверка диспетчером."),
}


@dataclass(frozen=True, slots=True)
class QrCheck:
    status: str  # confirmed | mismatch | missing
    reason: str
    found: str | None = None


def read_codes(image: Image.Image) -> list[str]:
    """Every QR text in the picture; tries a grey, contrast-stretched copy when needed."""
    texts = [r.text for r in zxingcpp.read_barcodes(image, formats=_QR_CODES)]
    if texts:
        return texts
    grey = ImageOps.autocontrast(image.convert("L"))
    if max(grey.size) > 2000:
        grey.thumbnail((2000, 2000))
    return [r.text for r in zxingcpp.read_barcodes(grey, formats=_QR_CODES)]


def token_in(text: str) -> str | None:
    match = _TOKEN.search(text.strip())
    return match.group(1) if match else None


def check_work_order_photo(image: Image.Image, token: str, base_url: str = "") -> QrCheck:
    texts = read_codes(image)
    if not texts:
        return QrCheck("missing", str(QR_REASONS["missing"]))
    for text in texts:
        if token_in(text) == token:
            return QrCheck("confirmed", str(QR_REASONS["confirmed"]), text)
    return QrCheck("mismatch", str(QR_REASONS["mismatch"]), texts[0])
