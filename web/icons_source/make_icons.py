"""Generate Zayavka app icons: a white house outline with a check mark on deep blue.

Run from anywhere (needs Pillow):  python web/icons_source/make_icons.py
Writes into web/static/icons/. The output is committed; re-run only to change the design.

Geometry lives in a 100x100 "content" frame and is drawn 4x oversampled, then downscaled
with Lanczos for clean anti-aliased edges. favicon.svg is written from the same geometry.
"""

from __future__ import annotations

from itertools import pairwise
from pathlib import Path

from PIL import Image, ImageDraw

OUT = Path(__file__).resolve().parent.parent / "static" / "icons"

BLUE = (29, 78, 216, 255)  # #1d4ed8
WHITE = (255, 255, 255, 255)
ACCENT = (250, 204, 21, 255)  # #facc15, check mark on the colour icons
SS = 4  # oversampling factor

# Polylines in the 100x100 content frame (stroked with round caps and joins).
ROOF = [(13, 49), (50, 17), (87, 49)]
WALLS = [(25.5, 39.5), (25.5, 83), (74.5, 83), (74.5, 39.5)]
CHECK = [(37, 61), (46.5, 70.5), (64, 52.5)]
Y_SHIFT = 0.5  # vertical optical centring of the drawing


def _hex(c: tuple[int, int, int, int]) -> str:
    return "#{:02x}{:02x}{:02x}".format(*c[:3])


def _stroke(draw: ImageDraw.ImageDraw, pts, width: float, fill) -> None:
    """Polyline with round caps and joins."""
    w = max(1, round(width))
    r = width / 2
    for a, b in pairwise(pts):
        draw.line([a, b], fill=fill, width=w)
    for x, y in pts:
        draw.ellipse([x - r, y - r, x + r, y + r], fill=fill)


def _emblem(
    draw: ImageDraw.ImageDraw,
    size: float,
    content: float,
    stroke: float,
    house=WHITE,
    check=ACCENT,
) -> None:
    """Draw the house+check centred on a size x size canvas.

    content: side of the 100-unit frame as a fraction of size; stroke: width in frame units.
    """
    k = size * content / 100
    off = (size - size * content) / 2

    def tr(pts):
        return [(off + x * k, off + (y + Y_SHIFT) * k) for x, y in pts]

    _stroke(draw, tr(ROOF), stroke * k, house)
    _stroke(draw, tr(WALLS), stroke * k, house)
    _stroke(draw, tr(CHECK), stroke * k, check)


def render(
    size: int,
    *,
    content: float,
    stroke: float = 7.0,
    background: str = "rounded",  # "rounded" | "full" | "none"
    radius: float = 0.22,
    house=WHITE,
    check=ACCENT,
) -> Image.Image:
    big = size * SS
    img = Image.new("RGBA", (big, big), (0, 0, 0, 0))
    d = ImageDraw.Draw(img)
    if background == "rounded":
        d.rounded_rectangle([0, 0, big - 1, big - 1], radius=round(big * radius), fill=BLUE)
    elif background == "full":
        d.rectangle([0, 0, big, big], fill=BLUE)
    _emblem(d, big, content, stroke, house, check)
    return img.resize((size, size), Image.Resampling.LANCZOS)


def svg(content: float = 0.74, stroke: float = 8.5, radius: float = 0.22) -> str:
    """Same emblem as an SVG (viewBox 0 0 100 100), for favicon.svg."""
    k = content
    off = (100 - 100 * content) / 2

    def path(pts):
        return "M" + " L".join(f"{off + x * k:.2f} {off + (y + Y_SHIFT) * k:.2f}" for x, y in pts)

    sw = f"{stroke * k:.2f}"
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 100 100">'
        f'<rect width="100" height="100" rx="{100 * radius:.0f}" fill="{_hex(BLUE)}"/>'
        f'<g fill="none" stroke-width="{sw}" stroke-linecap="round" stroke-linejoin="round">'
        f'<path stroke="#fff" d="{path(ROOF)} {path(WALLS)}"/>'
        f'<path stroke="{_hex(ACCENT)}" d="{path(CHECK)}"/>'
        "</g></svg>\n"
    )


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    outputs = {
        # purpose "any": rounded square on transparent corners
        "icon-192.png": render(192, content=0.70),
        "icon-512.png": render(512, content=0.70),
        # purpose "maskable": full-bleed background, emblem well inside the 80 % safe circle
        "icon-maskable-512.png": render(512, content=0.60, background="full"),
        # iOS masks the icon itself and turns transparency black: full-bleed, opaque
        "apple-touch-icon.png": render(180, content=0.66, background="full"),
        # small sizes get a heavier stroke
        "favicon.png": render(32, content=0.80, stroke=9.5, radius=0.2),
        # notification badge: white silhouette on transparent (Android uses alpha only)
        "badge-72.png": render(72, content=0.92, stroke=9.0, background="none", check=WHITE),
    }
    for name, im in outputs.items():
        if name == "apple-touch-icon.png":
            im = im.convert("RGB")
        im.save(OUT / name, optimize=True)
        print(f"{name:24} {im.size[0]}x{im.size[1]}  {(OUT / name).stat().st_size} B")
    (OUT / "favicon.svg").write_text(svg(), encoding="utf-8")
    print(f"{'favicon.svg':24} {(OUT / 'favicon.svg').stat().st_size} B")


if __name__ == "__main__":
    main()
