"""Drawing the demo's product photos: each articleType a silhouette, each baseColour a palette.

Shapes are described in unit coordinates (0..1, y down) and placed through a seeded
scale/rotation/shift, so the same articleType always has the same silhouette, never the same pixels.
"""

from __future__ import annotations

import math

import numpy as np
from PIL import Image, ImageDraw

WHITE = (255, 255, 255)
# What each baseColour is painted with.
COLOURS: dict[str, tuple[int, int, int]] = {
    "Black": (30, 30, 32),
    "White": (238, 238, 234),
    "Blue": (40, 90, 200),
    "Brown": (115, 70, 40),
    "Grey": (128, 128, 130),
    "Red": (205, 30, 40),
    "Green": (40, 145, 60),
    "Pink": (240, 130, 170),
    "Navy Blue": (28, 38, 92),
    "Purple": (115, 50, 150),
    "Silver": (190, 192, 198),
    "Yellow": (240, 205, 40),
    "Beige": (215, 195, 155),
    "Gold": (210, 170, 55),
    "Maroon": (120, 22, 40),
    "Orange": (240, 125, 30),
    "Olive": (110, 118, 40),
    "Cream": (240, 228, 190),
    "Steel": (150, 160, 170),
    "Charcoal": (62, 66, 72),
    "Peach": (250, 180, 140),
    "Teal": (0, 125, 125),
    "Khaki": (190, 170, 110),
    "Magenta": (200, 30, 150),
}


def _shade(rgb, factor: float) -> tuple[int, int, int]:
    return tuple(int(max(0, min(255, c * factor))) for c in rgb)


def _tint(rgb, amount: float) -> tuple[int, int, int]:
    """Blend towards white by `amount` (0..1)."""
    return tuple(int(c + (255 - c) * amount) for c in rgb)


def palette(colour: str, rng: np.random.Generator) -> dict[str, tuple[int, int, int]]:
    """The fills a drawing may use: the item colour (jittered) and a few neutral materials."""
    base = np.asarray(COLOURS[colour], dtype=float)
    # Brightness varies as a whole; each channel only slightly, so a White item never turns pink.
    main = np.clip(base * rng.uniform(0.9, 1.04) + rng.uniform(-5, 5, 3), 0, 255)
    main_rgb = tuple(int(c) for c in main)
    luminance = 0.299 * main[0] + 0.587 * main[1] + 0.114 * main[2]
    return {
        "main": main_rgb,
        "dark": _shade(main_rgb, 0.68),
        "light": _tint(main_rgb, 0.45),
        "outline": _shade(main_rgb, 0.45),
        # a logo or print must stand out from the item whatever its colour
        "contrast": (30, 30, 30) if luminance > 140 else (245, 245, 245),
        "glass": tuple(int(c * 0.35 + 15) for c in main_rgb),
        "metal": (172, 175, 182),
        "sole": (232, 230, 224),
        "face": (246, 246, 242),
        "ink": (35, 35, 38),
        "stitch": (205, 150, 60),
    }


class Canvas:
    """A white square that draws unit-coordinate shapes through one seeded placement."""

    def __init__(self, size: int, rng: np.random.Generator, palette: dict[str, tuple[int, int, int]]):
        self.image = Image.new("RGB", (size, size), WHITE)
        self._draw = ImageDraw.Draw(self.image)
        self._size = size
        self._scale = rng.uniform(0.82, 1.0)
        angle = math.radians(rng.uniform(-7.0, 7.0))
        cos, sin = math.cos(angle), math.sin(angle)
        self._matrix = self._scale * np.array([[cos, -sin], [sin, cos]])
        self._offset = 0.5 + rng.uniform(-0.04, 0.04, 2)
        self._outline_width = max(1, round(size / 150))
        self.palette = palette

    def _xy(self, points) -> list[float]:
        unit = (np.asarray(points, dtype=float) - 0.5) @ self._matrix.T + self._offset
        return (unit * self._size).ravel().tolist()

    def polygon(self, points, role: str = "main", outline: bool = True) -> None:
        self._draw.polygon(
            self._xy(points),
            fill=self.palette[role],
            outline=self.palette["outline"] if outline else None,
            width=self._outline_width,
        )

    def rect(self, x0: float, y0: float, x1: float, y1: float, role: str = "main", outline: bool = True) -> None:
        self.polygon([(x0, y0), (x1, y0), (x1, y1), (x0, y1)], role, outline)

    def ellipse(
        self,
        cx: float,
        cy: float,
        rx: float,
        ry: float,
        role: str = "main",
        start: float = 0.0,
        end: float = 360.0,
        outline: bool = True,
    ) -> None:
        """An ellipse, or the part of it between two angles (degrees, clockwise from +x) closed by its chord."""
        self.polygon(_arc(cx, cy, rx, ry, start, end), role, outline)

    def rounded_rect(self, x0: float, y0: float, x1: float, y1: float, r: float, role: str = "main") -> None:
        corners = ((x1 - r, y0 + r, 270), (x1 - r, y1 - r, 0), (x0 + r, y1 - r, 90), (x0 + r, y0 + r, 180))
        points = [p for cx, cy, a in corners for p in _arc(cx, cy, r, r, a, a + 90, steps=6)]
        self.polygon(points, role)

    def band(
        self, cx: float, cy: float, rx: float, ry: float, thickness: float, start: float, end: float, role: str = "main"
    ) -> None:
        """A curved strap (bag handle, cap seam): the ring between two concentric elliptic arcs."""
        outer = _arc(cx, cy, rx, ry, start, end)
        inner = _arc(cx, cy, rx - thickness, ry - thickness, start, end)
        self.polygon(outer + inner[::-1], role)

    def line(self, points, role: str = "dark", width: float = 0.01) -> None:
        pixels = max(1, round(width * self._scale * self._size))
        self._draw.line(self._xy(points), fill=self.palette[role], width=pixels, joint="curve")


def _arc(cx, cy, rx, ry, start, end, steps: int = 36) -> list[tuple[float, float]]:
    angles = np.radians(np.linspace(start, end, steps))
    return list(zip(cx + rx * np.cos(angles), cy + ry * np.sin(angles)))


def _mirror(points) -> list[tuple[float, float]]:
    """The right half of a symmetric garment from its left half (reversed, so the outline closes)."""
    return [(1.0 - x, y) for x, y in reversed(points)]


def _print_on(c: Canvas, rng: np.random.Generator, x0: float, x1: float, y0: float, y1: float) -> None:
    """Most garments are plain; some carry a stripe or a chest logo, as real catalog photos do."""
    kind = rng.choice(3, p=[0.5, 0.25, 0.25])
    if kind == 1:
        y = rng.uniform(y0, y1 - 0.07)
        c.rect(x0, y, x1, y + rng.uniform(0.03, 0.07), rng.choice(["light", "dark", "contrast"]), outline=False)
    elif kind == 2:
        cx, cy = (x0 + x1) / 2 + rng.uniform(-0.08, 0.08), y0 + rng.uniform(0.0, 0.1)
        c.ellipse(cx, cy, 0.045, 0.035, "contrast", outline=False)


# ---- apparel ----


def tshirt(c: Canvas, rng: np.random.Generator) -> None:
    left = [(0.5, 0.21), (0.38, 0.14), (0.24, 0.18), (0.06, 0.34), (0.15, 0.45), (0.27, 0.37), (0.28, 0.9)]
    c.polygon(left + _mirror(left)[:-1])
    c.line([(0.38, 0.14), (0.5, 0.21), (0.62, 0.14)], "dark", 0.02)
    _print_on(c, rng, 0.28, 0.72, 0.3, 0.75)


def shirt(c: Canvas, rng: np.random.Generator) -> None:
    left = [
        (0.5, 0.2),
        (0.38, 0.12),
        (0.22, 0.17),
        (0.12, 0.45),
        (0.08, 0.8),
        (0.18, 0.82),
        (0.24, 0.5),
        (0.27, 0.4),
        (0.27, 0.9),
    ]
    c.polygon(left + _mirror(left)[:-1])
    if rng.random() < 0.4:  # checks or stripes
        for x in np.linspace(0.32, 0.68, 5):
            c.line([(x, 0.28), (x, 0.88)], "dark", 0.008)
    c.line([(0.5, 0.22), (0.5, 0.9)], "dark", 0.01)
    for y in (0.32, 0.45, 0.58, 0.71):
        c.ellipse(0.5, y, 0.012, 0.012, "light", outline=False)
    c.polygon([(0.38, 0.11), (0.5, 0.22), (0.41, 0.27)], "light")
    c.polygon([(0.62, 0.11), (0.59, 0.27), (0.5, 0.22)], "light")
    c.rect(0.57, 0.33, 0.66, 0.43)


def top(c: Canvas, rng: np.random.Generator) -> None:
    left = [(0.5, 0.24), (0.44, 0.24), (0.4, 0.12), (0.36, 0.12), (0.32, 0.3), (0.34, 0.45), (0.26, 0.86)]
    c.polygon(left + _mirror(left)[:-1])
    if rng.random() < 0.5:  # a peplum seam
        c.line([(0.33, 0.55), (0.67, 0.55)], "dark", 0.012)
    _print_on(c, rng, 0.34, 0.66, 0.3, 0.75)


def sweatshirt(c: Canvas, rng: np.random.Generator) -> None:
    left = [
        (0.5, 0.19),
        (0.4, 0.12),
        (0.22, 0.17),
        (0.1, 0.48),
        (0.07, 0.84),
        (0.19, 0.86),
        (0.23, 0.52),
        (0.27, 0.4),
        (0.27, 0.9),
    ]
    c.polygon(left + _mirror(left)[:-1])
    c.rect(0.27, 0.84, 0.73, 0.9, "dark")
    c.polygon([(0.07, 0.8), (0.19, 0.82), (0.19, 0.86), (0.07, 0.84)], "dark")
    c.polygon([(0.93, 0.8), (0.93, 0.84), (0.81, 0.86), (0.81, 0.82)], "dark")
    if rng.random() < 0.5:  # hooded
        c.ellipse(0.5, 0.14, 0.12, 0.1, "dark", 180, 360)
    c.polygon([(0.36, 0.62), (0.64, 0.62), (0.68, 0.8), (0.32, 0.8)], "dark")
    _print_on(c, rng, 0.3, 0.7, 0.3, 0.55)


def jacket(c: Canvas, rng: np.random.Generator) -> None:
    left = [
        (0.5, 0.16),
        (0.38, 0.1),
        (0.2, 0.16),
        (0.09, 0.48),
        (0.06, 0.86),
        (0.18, 0.88),
        (0.22, 0.52),
        (0.25, 0.42),
        (0.25, 0.92),
    ]
    c.polygon(left + _mirror(left)[:-1])
    c.rect(0.38, 0.06, 0.62, 0.14, "dark")
    c.line([(0.5, 0.14), (0.5, 0.92)], "metal", 0.018)
    c.line([(0.31, 0.62), (0.37, 0.74)], "dark", 0.015)
    c.line([(0.69, 0.62), (0.63, 0.74)], "dark", 0.015)


def kurta(c: Canvas, rng: np.random.Generator) -> None:
    left = [
        (0.5, 0.12),
        (0.4, 0.06),
        (0.27, 0.1),
        (0.16, 0.4),
        (0.12, 0.62),
        (0.21, 0.64),
        (0.26, 0.42),
        (0.29, 0.3),
        (0.28, 0.96),
    ]
    c.polygon(left + _mirror(left)[:-1])
    c.line([(0.5, 0.12), (0.5, 0.34)], "dark", 0.014)
    if rng.random() < 0.6:  # an embroidered hem and neck
        c.rect(0.28, 0.9, 0.72, 0.95, "stitch", outline=False)
        c.ellipse(0.5, 0.14, 0.05, 0.03, "stitch", outline=False)


def dress(c: Canvas, rng: np.random.Generator) -> None:
    left = [(0.5, 0.18), (0.46, 0.18), (0.43, 0.08), (0.4, 0.08), (0.37, 0.22), (0.4, 0.4), (0.22, 0.92)]
    c.polygon(left + _mirror(left)[:-1])
    c.line([(0.4, 0.4), (0.6, 0.4)], "dark", 0.02)
    if rng.random() < 0.4:  # a print of dots on the skirt
        for _ in range(8):
            c.ellipse(rng.uniform(0.38, 0.62), rng.uniform(0.5, 0.85), 0.015, 0.015, "contrast", outline=False)


def _legwear(c: Canvas, hem: float, flare: float) -> None:
    """Trousers, jeans and shorts: a waistband and two legs down to `hem`."""
    left = [(0.5, 0.35), (0.5 - 0.05, hem), (0.5 - 0.2 - flare, hem), (0.28, 0.2), (0.3, 0.08)]
    c.polygon(_mirror(left)[:-1] + left)
    c.rect(0.3, 0.08, 0.7, 0.13, "dark")


def jeans(c: Canvas, rng: np.random.Generator) -> None:
    _legwear(c, 0.94, -0.02)
    c.line([(0.5, 0.13), (0.5, 0.3)], "stitch", 0.008)
    c.line([(0.32, 0.16), (0.38, 0.22), (0.42, 0.14)], "stitch", 0.008)
    c.line([(0.68, 0.16), (0.62, 0.22), (0.58, 0.14)], "stitch", 0.008)
    if rng.random() < 0.4:  # faded knees
        c.ellipse(0.38, 0.6, 0.05, 0.08, "light", outline=False)
        c.ellipse(0.62, 0.6, 0.05, 0.08, "light", outline=False)


def trousers(c: Canvas, rng: np.random.Generator) -> None:
    _legwear(c, 0.94, 0.0)
    c.line([(0.39, 0.16), (0.39, 0.92)], "dark", 0.006)
    c.line([(0.61, 0.16), (0.61, 0.92)], "dark", 0.006)


def shorts(c: Canvas, rng: np.random.Generator) -> None:
    _legwear(c, 0.6, 0.06)
    if rng.random() < 0.5:  # cargo pockets
        c.rect(0.24, 0.36, 0.34, 0.48, "dark")
        c.rect(0.66, 0.36, 0.76, 0.48, "dark")


# ---- footwear (side view, toe to the left) ----


def casual_shoe(c: Canvas, rng: np.random.Generator) -> None:
    c.polygon(
        [
            (0.1, 0.62),
            (0.14, 0.52),
            (0.3, 0.46),
            (0.44, 0.4),
            (0.58, 0.34),
            (0.66, 0.36),
            (0.78, 0.32),
            (0.88, 0.34),
            (0.9, 0.62),
        ]
    )
    c.polygon([(0.08, 0.62), (0.92, 0.62), (0.92, 0.7), (0.12, 0.7), (0.08, 0.66)], "sole")
    for i in range(4):
        x = 0.42 + 0.05 * i
        c.line([(x, 0.42 - 0.02 * i), (x + 0.05, 0.47 - 0.02 * i)], "light", 0.012)
    if rng.random() < 0.5:
        c.rect(0.14, 0.58, 0.36, 0.62, "light", outline=False)  # a toe-cap band


def sports_shoe(c: Canvas, rng: np.random.Generator) -> None:
    c.polygon(
        [
            (0.07, 0.6),
            (0.1, 0.52),
            (0.28, 0.46),
            (0.45, 0.36),
            (0.6, 0.3),
            (0.7, 0.34),
            (0.8, 0.28),
            (0.9, 0.32),
            (0.92, 0.6),
        ]
    )
    c.polygon([(0.05, 0.6), (0.94, 0.58), (0.94, 0.72), (0.12, 0.72), (0.05, 0.66)], "sole")
    c.line([(0.05, 0.66), (0.94, 0.65)], "dark", 0.012)
    c.polygon([(0.3, 0.56), (0.58, 0.4), (0.8, 0.42), (0.6, 0.48), (0.36, 0.58)], "contrast")
    for i in range(3):
        c.line([(0.45 + 0.05 * i, 0.37 - 0.02 * i), (0.5 + 0.05 * i, 0.42 - 0.02 * i)], "light", 0.012)


def formal_shoe(c: Canvas, rng: np.random.Generator) -> None:
    c.polygon(
        [(0.08, 0.64), (0.12, 0.56), (0.34, 0.5), (0.52, 0.44), (0.62, 0.4), (0.8, 0.4), (0.9, 0.44), (0.9, 0.64)]
    )
    c.polygon([(0.06, 0.64), (0.91, 0.64), (0.91, 0.67), (0.1, 0.67)], "ink")
    c.rect(0.76, 0.64, 0.9, 0.71, "ink")
    c.line([(0.2, 0.53), (0.4, 0.5)], "light", 0.012)  # the shine of polished leather
    if rng.random() < 0.5:
        c.line([(0.45, 0.46), (0.52, 0.56)], "dark", 0.01)  # a brogue seam


def heel(c: Canvas, rng: np.random.Generator) -> None:
    c.polygon([(0.82, 0.46), (0.87, 0.46), (0.84, 0.84), (0.82, 0.84)], "dark")
    c.polygon(
        [
            (0.08, 0.74),
            (0.15, 0.66),
            (0.35, 0.62),
            (0.45, 0.64),
            (0.6, 0.5),
            (0.82, 0.36),
            (0.88, 0.4),
            (0.86, 0.48),
            (0.55, 0.66),
            (0.38, 0.78),
            (0.1, 0.78),
        ]
    )
    if rng.random() < 0.4:  # an ankle strap
        c.line([(0.78, 0.38), (0.7, 0.24), (0.86, 0.24), (0.86, 0.4)], "main", 0.02)


def sandal(c: Canvas, rng: np.random.Generator) -> None:
    c.polygon([(0.06, 0.68), (0.94, 0.66), (0.94, 0.76), (0.1, 0.76), (0.06, 0.72)], "dark")
    c.polygon([(0.16, 0.68), (0.26, 0.5), (0.34, 0.5), (0.3, 0.68)])
    c.polygon([(0.4, 0.67), (0.48, 0.46), (0.57, 0.46), (0.53, 0.67)])
    c.band(0.78, 0.67, 0.1, 0.26, 0.035, 180, 360)
    c.ellipse(0.78, 0.42, 0.025, 0.025, "metal")  # buckle


def flip_flops(c: Canvas, rng: np.random.Generator) -> None:
    """Top view of the pair."""
    for x in (0.32, 0.68):
        c.ellipse(x, 0.52, 0.14, 0.38)
        c.ellipse(x, 0.52, 0.1, 0.33, "light", outline=False)
        c.line([(x - 0.12, 0.5), (x, 0.27), (x + 0.12, 0.5)], "dark", 0.03)


# ---- accessories ----


def watch(c: Canvas, rng: np.random.Generator) -> None:
    c.rect(0.4, 0.04, 0.6, 0.36)
    c.rect(0.4, 0.64, 0.6, 0.96)
    for y in (0.74, 0.8, 0.86):
        c.ellipse(0.5, y, 0.012, 0.012, "dark", outline=False)
    c.rect(0.7, 0.47, 0.75, 0.53, "metal")  # crown
    c.ellipse(0.5, 0.5, 0.22, 0.22, "dark")
    c.ellipse(0.5, 0.5, 0.17, 0.17, "face")
    for angle in range(0, 360, 30):
        a = math.radians(angle)
        c.line(
            [
                (0.5 + 0.14 * math.cos(a), 0.5 + 0.14 * math.sin(a)),
                (0.5 + 0.16 * math.cos(a), 0.5 + 0.16 * math.sin(a)),
            ],
            "ink",
            0.01,
        )
    hour, minute = rng.uniform(0, 2 * math.pi, 2)
    c.line([(0.5, 0.5), (0.5 + 0.09 * math.cos(hour), 0.5 + 0.09 * math.sin(hour))], "ink", 0.018)
    c.line([(0.5, 0.5), (0.5 + 0.14 * math.cos(minute), 0.5 + 0.14 * math.sin(minute))], "ink", 0.012)


def handbag(c: Canvas, rng: np.random.Generator) -> None:
    c.band(0.5, 0.44, 0.24, 0.3, 0.04, 180, 360, "dark")
    c.polygon([(0.18, 0.42), (0.82, 0.42), (0.88, 0.88), (0.12, 0.88)])
    if rng.random() < 0.5:  # a flap
        c.polygon([(0.18, 0.42), (0.82, 0.42), (0.8, 0.58), (0.2, 0.58)], "dark")
    c.rect(0.46, 0.54, 0.54, 0.62, "metal")


def backpack(c: Canvas, rng: np.random.Generator) -> None:
    c.band(0.5, 0.16, 0.09, 0.07, 0.025, 180, 360, "dark")
    c.rounded_rect(0.22, 0.14, 0.78, 0.92, 0.1)
    c.rounded_rect(0.3, 0.56, 0.7, 0.86, 0.05, "dark")
    c.line([(0.32, 0.6), (0.68, 0.6)], "metal", 0.01)
    c.line([(0.26, 0.3), (0.74, 0.3)], "metal", 0.01)
    if rng.random() < 0.5:
        c.rect(0.44, 0.38, 0.56, 0.46, "contrast", outline=False)  # a brand patch


def belt(c: Canvas, rng: np.random.Generator) -> None:
    c.polygon([(0.04, 0.47), (0.86, 0.45), (0.86, 0.55), (0.04, 0.57), (0.02, 0.52)])
    for x in (0.14, 0.2, 0.26, 0.32):
        c.ellipse(x, 0.52, 0.008, 0.012, "ink", outline=False)
    c.rect(0.78, 0.39, 0.96, 0.61, "metal")
    c.rect(0.81, 0.43, 0.93, 0.57, "main")
    c.line([(0.78, 0.5), (0.87, 0.5)], "metal", 0.015)


def sunglasses(c: Canvas, rng: np.random.Generator) -> None:
    c.line([(0.12, 0.44), (0.03, 0.4)], "main", 0.025)
    c.line([(0.88, 0.44), (0.97, 0.4)], "main", 0.025)
    c.band(0.5, 0.48, 0.08, 0.06, 0.025, 200, 340)
    for x in (0.29, 0.71):
        c.ellipse(x, 0.5, 0.19, 0.14)
        c.ellipse(x, 0.5, 0.16, 0.11, "glass", outline=False)


def cap(c: Canvas, rng: np.random.Generator) -> None:
    c.polygon([(0.68, 0.6), (0.96, 0.64), (0.93, 0.7), (0.68, 0.68)], "dark")
    c.ellipse(0.46, 0.64, 0.3, 0.34, "main", 180, 360)
    c.line([(0.46, 0.3), (0.3, 0.64)], "dark", 0.01)
    c.line([(0.46, 0.3), (0.62, 0.64)], "dark", 0.01)
    c.ellipse(0.46, 0.3, 0.025, 0.018, "dark")
    if rng.random() < 0.5:
        c.ellipse(0.4, 0.52, 0.06, 0.045, "contrast", outline=False)


def socks(c: Canvas, rng: np.random.Generator) -> None:
    """A pair, one sock behind the other."""
    for dx, dy in ((0.12, -0.05), (0.0, 0.0)):
        sock = [
            (0.26, 0.12),
            (0.46, 0.12),
            (0.46, 0.58),
            (0.74, 0.7),
            (0.78, 0.78),
            (0.72, 0.86),
            (0.36, 0.84),
            (0.26, 0.72),
        ]
        c.polygon([(x + dx, y + dy) for x, y in sock])
        c.rect(0.26 + dx, 0.12 + dy, 0.46 + dx, 0.2 + dy, "dark")
        c.ellipse(0.72 + dx, 0.78 + dy, 0.05, 0.07, "dark", outline=False)


def wallet(c: Canvas, rng: np.random.Generator) -> None:
    c.rounded_rect(0.16, 0.28, 0.84, 0.74, 0.04)
    c.line([(0.2, 0.32), (0.8, 0.32), (0.8, 0.7), (0.2, 0.7), (0.2, 0.32)], "light", 0.006)
    if rng.random() < 0.5:  # shown open: the fold and a card slot
        c.line([(0.5, 0.28), (0.5, 0.74)], "dark", 0.015)
        c.rect(0.56, 0.38, 0.78, 0.48, "dark")
    else:
        c.rect(0.44, 0.46, 0.56, 0.54, "metal")


def tie(c: Canvas, rng: np.random.Generator) -> None:
    c.polygon([(0.44, 0.2), (0.56, 0.2), (0.62, 0.82), (0.5, 0.94), (0.38, 0.82)])
    if rng.random() < 0.6:  # regimental stripes, kept inside the blade as it widens
        for y in (0.34, 0.48, 0.62, 0.76):
            half = 0.05 + 0.06 * (y - 0.2) / 0.62
            c.line([(0.5 - half, y + 0.03), (0.5 + half, y - 0.03)], "light", 0.02)
    c.polygon([(0.42, 0.08), (0.58, 0.08), (0.55, 0.2), (0.45, 0.2)], "dark")


# ---- personal care ----


def perfume(c: Canvas, rng: np.random.Generator) -> None:
    c.rect(0.44, 0.28, 0.56, 0.4, "metal")
    c.rect(0.38, 0.12, 0.62, 0.28, "dark")
    c.rounded_rect(0.28, 0.38, 0.72, 0.9, 0.06)
    c.rect(0.36, 0.56, 0.64, 0.7, "light")


def deodorant(c: Canvas, rng: np.random.Generator) -> None:
    c.ellipse(0.5, 0.2, 0.12, 0.08, "dark", 180, 360)
    c.rect(0.38, 0.18, 0.62, 0.92)
    c.rect(0.38, 0.48, 0.62, 0.62, "contrast")


def lipstick(c: Canvas, rng: np.random.Generator) -> None:
    c.polygon([(0.43, 0.42), (0.43, 0.26), (0.57, 0.18), (0.57, 0.42)])
    c.rect(0.4, 0.42, 0.6, 0.52, "metal")
    c.rect(0.38, 0.52, 0.62, 0.9, "dark")


def nail_polish(c: Canvas, rng: np.random.Generator) -> None:
    c.rect(0.44, 0.14, 0.56, 0.5, "ink")
    c.rounded_rect(0.32, 0.48, 0.68, 0.88, 0.07)
    c.rect(0.38, 0.52, 0.44, 0.8, "light", outline=False)  # the glint on the glass
