"""The built-in demo catalog: a `styles.csv` with the real schema and quirks, and drawn product photos.

The Fashion Product Images dataset cannot be shipped or downloaded here, so `catalog demo` and the
tests generate a stand-in. Its rows follow the real file: value distributions skewed the same way,
every articleType always under the same subCategory and masterCategory, and (with `quirks=True`)
the real file's defects on a few rows. Its images are Pillow drawings on a white background whose
SHAPE follows articleType and whose COLOUR follows baseColour, with seeded jitter, so that image
search and the attribute graph both have real structure to find.

Run `python -m catalog.demo OUT_DIR --count N` to look at one.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image, ImageDraw

from catalog.columns import DISPLAY_COLUMNS, IMAGE_SIZE
from catalog.errors import CatalogError

# Ids are drawn without replacement from the range the real file uses.
ID_RANGE = (1526, 60000)
WHITE = (255, 255, 255)

# --------------------------------------------------------------------------------------------
# Value tables. Weights are rounded counts from the real 44k-row file, so the demo keeps its skew.
# --------------------------------------------------------------------------------------------

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
COLOUR_WEIGHTS = {
    "Black": 9728, "White": 5538, "Blue": 4923, "Brown": 3494, "Grey": 2741, "Red": 2455,
    "Green": 2112, "Pink": 1862, "Navy Blue": 1789, "Purple": 1640, "Silver": 1089, "Yellow": 781,
    "Beige": 748, "Gold": 631, "Maroon": 625, "Orange": 539, "Olive": 410, "Cream": 387,
    "Steel": 315, "Charcoal": 228, "Peach": 185, "Teal": 141, "Khaki": 139, "Magenta": 64,
}
SEASON_WEIGHTS = {"Summer": 48, "Fall": 26, "Winter": 19, "Spring": 7}
WARM_WEAR_SEASONS = {"Winter": 55, "Fall": 35, "Spring": 5, "Summer": 5}
YEAR_WEIGHTS = {2010: 3, 2011: 30, 2012: 36, 2013: 4, 2014: 2, 2015: 7, 2016: 13, 2017: 5}

MEN_MOSTLY = {"Men": 62, "Women": 30, "Unisex": 3, "Boys": 3, "Girls": 2}
WOMEN_ONLY = {"Women": 100}
WOMEN_MOSTLY = {"Women": 90, "Girls": 10}
MEN_ONLY = {"Men": 100}
MEN_AND_WOMEN = {"Men": 50, "Women": 45, "Unisex": 3, "Boys": 1, "Girls": 1}
UNISEX_MOSTLY = {"Unisex": 55, "Men": 30, "Women": 15}

CASUAL = {"Casual": 100}

CASUAL_APPAREL = ("Roadster", "Wrangler", "Flying Machine", "Locomotive", "United Colors of Benetton",
                  "Mufti", "Highlander", "Basics", "Proline")
SPORTS_BRANDS = ("Nike", "Puma", "Adidas", "Reebok", "Fila", "Lotto")
FORMAL_APPAREL = ("Van Heusen", "Arrow", "Peter England", "Louis Philippe", "Allen Solly", "Park Avenue")
WOMEN_APPAREL = ("Jealous 21", "Vero Moda", "Only", "Forever New", "Mango")


@dataclass(frozen=True)
class ArticleType:
    """Where an articleType sits in the category tree, how its rows are distributed, how it is drawn."""

    master: str
    sub: str
    weight: int
    genders: dict[str, float]
    usages: dict[str, float]
    noun: str
    brands: tuple[str, ...]
    descriptors: tuple[str, ...]
    draw: Callable[[_Canvas, np.random.Generator], None]
    colours: dict[str, float] | None = None  # None: the catalog-wide colour skew
    seasons: dict[str, float] | None = None  # None: the catalog-wide season skew


# --------------------------------------------------------------------------------------------
# Drawing: shapes are described in unit coordinates (0..1, y down) and placed through a seeded
# scale/rotation/shift, so the same articleType always has the same silhouette, never the same pixels.
# --------------------------------------------------------------------------------------------


def _shade(rgb, factor: float) -> tuple[int, int, int]:
    return tuple(int(max(0, min(255, c * factor))) for c in rgb)


def _tint(rgb, amount: float) -> tuple[int, int, int]:
    """Blend towards white by `amount` (0..1)."""
    return tuple(int(c + (255 - c) * amount) for c in rgb)


def _palette(colour: str, rng: np.random.Generator) -> dict[str, tuple[int, int, int]]:
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


class _Canvas:
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

    def ellipse(self, cx: float, cy: float, rx: float, ry: float, role: str = "main",
                start: float = 0.0, end: float = 360.0, outline: bool = True) -> None:
        """An ellipse, or the part of it between two angles (degrees, clockwise from +x) closed by its chord."""
        self.polygon(_arc(cx, cy, rx, ry, start, end), role, outline)

    def rounded_rect(self, x0: float, y0: float, x1: float, y1: float, r: float, role: str = "main") -> None:
        corners = ((x1 - r, y0 + r, 270), (x1 - r, y1 - r, 0), (x0 + r, y1 - r, 90), (x0 + r, y0 + r, 180))
        points = [p for cx, cy, a in corners for p in _arc(cx, cy, r, r, a, a + 90, steps=6)]
        self.polygon(points, role)

    def band(self, cx: float, cy: float, rx: float, ry: float, thickness: float,
             start: float, end: float, role: str = "main") -> None:
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


def _print_on(c: _Canvas, rng: np.random.Generator, x0: float, x1: float, y0: float, y1: float) -> None:
    """Most garments are plain; some carry a stripe or a chest logo, as real catalog photos do."""
    kind = rng.choice(3, p=[0.5, 0.25, 0.25])
    if kind == 1:
        y = rng.uniform(y0, y1 - 0.07)
        c.rect(x0, y, x1, y + rng.uniform(0.03, 0.07), rng.choice(["light", "dark", "contrast"]), outline=False)
    elif kind == 2:
        cx, cy = (x0 + x1) / 2 + rng.uniform(-0.08, 0.08), y0 + rng.uniform(0.0, 0.1)
        c.ellipse(cx, cy, 0.045, 0.035, "contrast", outline=False)


# ---- apparel ----

def _tshirt(c: _Canvas, rng: np.random.Generator) -> None:
    left = [(0.5, 0.21), (0.38, 0.14), (0.24, 0.18), (0.06, 0.34), (0.15, 0.45), (0.27, 0.37), (0.28, 0.9)]
    c.polygon(left + _mirror(left)[:-1])
    c.line([(0.38, 0.14), (0.5, 0.21), (0.62, 0.14)], "dark", 0.02)
    _print_on(c, rng, 0.28, 0.72, 0.3, 0.75)


def _shirt(c: _Canvas, rng: np.random.Generator) -> None:
    left = [(0.5, 0.2), (0.38, 0.12), (0.22, 0.17), (0.12, 0.45), (0.08, 0.8), (0.18, 0.82), (0.24, 0.5),
            (0.27, 0.4), (0.27, 0.9)]
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


def _top(c: _Canvas, rng: np.random.Generator) -> None:
    left = [(0.5, 0.24), (0.44, 0.24), (0.4, 0.12), (0.36, 0.12), (0.32, 0.3), (0.34, 0.45), (0.26, 0.86)]
    c.polygon(left + _mirror(left)[:-1])
    if rng.random() < 0.5:  # a peplum seam
        c.line([(0.33, 0.55), (0.67, 0.55)], "dark", 0.012)
    _print_on(c, rng, 0.34, 0.66, 0.3, 0.75)


def _sweatshirt(c: _Canvas, rng: np.random.Generator) -> None:
    left = [(0.5, 0.19), (0.4, 0.12), (0.22, 0.17), (0.1, 0.48), (0.07, 0.84), (0.19, 0.86), (0.23, 0.52),
            (0.27, 0.4), (0.27, 0.9)]
    c.polygon(left + _mirror(left)[:-1])
    c.rect(0.27, 0.84, 0.73, 0.9, "dark")
    c.polygon([(0.07, 0.8), (0.19, 0.82), (0.19, 0.86), (0.07, 0.84)], "dark")
    c.polygon([(0.93, 0.8), (0.93, 0.84), (0.81, 0.86), (0.81, 0.82)], "dark")
    if rng.random() < 0.5:  # hooded
        c.ellipse(0.5, 0.14, 0.12, 0.1, "dark", 180, 360)
    c.polygon([(0.36, 0.62), (0.64, 0.62), (0.68, 0.8), (0.32, 0.8)], "dark")
    _print_on(c, rng, 0.3, 0.7, 0.3, 0.55)


def _jacket(c: _Canvas, rng: np.random.Generator) -> None:
    left = [(0.5, 0.16), (0.38, 0.1), (0.2, 0.16), (0.09, 0.48), (0.06, 0.86), (0.18, 0.88), (0.22, 0.52),
            (0.25, 0.42), (0.25, 0.92)]
    c.polygon(left + _mirror(left)[:-1])
    c.rect(0.38, 0.06, 0.62, 0.14, "dark")
    c.line([(0.5, 0.14), (0.5, 0.92)], "metal", 0.018)
    c.line([(0.31, 0.62), (0.37, 0.74)], "dark", 0.015)
    c.line([(0.69, 0.62), (0.63, 0.74)], "dark", 0.015)


def _kurta(c: _Canvas, rng: np.random.Generator) -> None:
    left = [(0.5, 0.12), (0.4, 0.06), (0.27, 0.1), (0.16, 0.4), (0.12, 0.62), (0.21, 0.64), (0.26, 0.42),
            (0.29, 0.3), (0.28, 0.96)]
    c.polygon(left + _mirror(left)[:-1])
    c.line([(0.5, 0.12), (0.5, 0.34)], "dark", 0.014)
    if rng.random() < 0.6:  # an embroidered hem and neck
        c.rect(0.28, 0.9, 0.72, 0.95, "stitch", outline=False)
        c.ellipse(0.5, 0.14, 0.05, 0.03, "stitch", outline=False)


def _dress(c: _Canvas, rng: np.random.Generator) -> None:
    left = [(0.5, 0.18), (0.46, 0.18), (0.43, 0.08), (0.4, 0.08), (0.37, 0.22), (0.4, 0.4), (0.22, 0.92)]
    c.polygon(left + _mirror(left)[:-1])
    c.line([(0.4, 0.4), (0.6, 0.4)], "dark", 0.02)
    if rng.random() < 0.4:  # a print of dots on the skirt
        for _ in range(8):
            c.ellipse(rng.uniform(0.38, 0.62), rng.uniform(0.5, 0.85), 0.015, 0.015, "contrast", outline=False)


def _legwear(c: _Canvas, hem: float, flare: float) -> None:
    """Trousers, jeans and shorts: a waistband and two legs down to `hem`."""
    left = [(0.5, 0.35), (0.5 - 0.05, hem), (0.5 - 0.2 - flare, hem), (0.28, 0.2), (0.3, 0.08)]
    c.polygon(_mirror(left)[:-1] + left)
    c.rect(0.3, 0.08, 0.7, 0.13, "dark")


def _jeans(c: _Canvas, rng: np.random.Generator) -> None:
    _legwear(c, 0.94, -0.02)
    c.line([(0.5, 0.13), (0.5, 0.3)], "stitch", 0.008)
    c.line([(0.32, 0.16), (0.38, 0.22), (0.42, 0.14)], "stitch", 0.008)
    c.line([(0.68, 0.16), (0.62, 0.22), (0.58, 0.14)], "stitch", 0.008)
    if rng.random() < 0.4:  # faded knees
        c.ellipse(0.38, 0.6, 0.05, 0.08, "light", outline=False)
        c.ellipse(0.62, 0.6, 0.05, 0.08, "light", outline=False)


def _trousers(c: _Canvas, rng: np.random.Generator) -> None:
    _legwear(c, 0.94, 0.0)
    c.line([(0.39, 0.16), (0.39, 0.92)], "dark", 0.006)
    c.line([(0.61, 0.16), (0.61, 0.92)], "dark", 0.006)


def _shorts(c: _Canvas, rng: np.random.Generator) -> None:
    _legwear(c, 0.6, 0.06)
    if rng.random() < 0.5:  # cargo pockets
        c.rect(0.24, 0.36, 0.34, 0.48, "dark")
        c.rect(0.66, 0.36, 0.76, 0.48, "dark")


# ---- footwear (side view, toe to the left) ----

def _casual_shoe(c: _Canvas, rng: np.random.Generator) -> None:
    c.polygon([(0.1, 0.62), (0.14, 0.52), (0.3, 0.46), (0.44, 0.4), (0.58, 0.34), (0.66, 0.36), (0.78, 0.32),
               (0.88, 0.34), (0.9, 0.62)])
    c.polygon([(0.08, 0.62), (0.92, 0.62), (0.92, 0.7), (0.12, 0.7), (0.08, 0.66)], "sole")
    for i in range(4):
        x = 0.42 + 0.05 * i
        c.line([(x, 0.42 - 0.02 * i), (x + 0.05, 0.47 - 0.02 * i)], "light", 0.012)
    if rng.random() < 0.5:
        c.rect(0.14, 0.58, 0.36, 0.62, "light", outline=False)  # a toe-cap band


def _sports_shoe(c: _Canvas, rng: np.random.Generator) -> None:
    c.polygon([(0.07, 0.6), (0.1, 0.52), (0.28, 0.46), (0.45, 0.36), (0.6, 0.3), (0.7, 0.34), (0.8, 0.28),
               (0.9, 0.32), (0.92, 0.6)])
    c.polygon([(0.05, 0.6), (0.94, 0.58), (0.94, 0.72), (0.12, 0.72), (0.05, 0.66)], "sole")
    c.line([(0.05, 0.66), (0.94, 0.65)], "dark", 0.012)
    c.polygon([(0.3, 0.56), (0.58, 0.4), (0.8, 0.42), (0.6, 0.48), (0.36, 0.58)], "contrast")
    for i in range(3):
        c.line([(0.45 + 0.05 * i, 0.37 - 0.02 * i), (0.5 + 0.05 * i, 0.42 - 0.02 * i)], "light", 0.012)


def _formal_shoe(c: _Canvas, rng: np.random.Generator) -> None:
    c.polygon([(0.08, 0.64), (0.12, 0.56), (0.34, 0.5), (0.52, 0.44), (0.62, 0.4), (0.8, 0.4), (0.9, 0.44),
               (0.9, 0.64)])
    c.polygon([(0.06, 0.64), (0.91, 0.64), (0.91, 0.67), (0.1, 0.67)], "ink")
    c.rect(0.76, 0.64, 0.9, 0.71, "ink")
    c.line([(0.2, 0.53), (0.4, 0.5)], "light", 0.012)  # the shine of polished leather
    if rng.random() < 0.5:
        c.line([(0.45, 0.46), (0.52, 0.56)], "dark", 0.01)  # a brogue seam


def _heel(c: _Canvas, rng: np.random.Generator) -> None:
    c.polygon([(0.82, 0.46), (0.87, 0.46), (0.84, 0.84), (0.82, 0.84)], "dark")
    c.polygon([(0.08, 0.74), (0.15, 0.66), (0.35, 0.62), (0.45, 0.64), (0.6, 0.5), (0.82, 0.36), (0.88, 0.4),
               (0.86, 0.48), (0.55, 0.66), (0.38, 0.78), (0.1, 0.78)])
    if rng.random() < 0.4:  # an ankle strap
        c.line([(0.78, 0.38), (0.7, 0.24), (0.86, 0.24), (0.86, 0.4)], "main", 0.02)


def _sandal(c: _Canvas, rng: np.random.Generator) -> None:
    c.polygon([(0.06, 0.68), (0.94, 0.66), (0.94, 0.76), (0.1, 0.76), (0.06, 0.72)], "dark")
    c.polygon([(0.16, 0.68), (0.26, 0.5), (0.34, 0.5), (0.3, 0.68)])
    c.polygon([(0.4, 0.67), (0.48, 0.46), (0.57, 0.46), (0.53, 0.67)])
    c.band(0.78, 0.67, 0.1, 0.26, 0.035, 180, 360)
    c.ellipse(0.78, 0.42, 0.025, 0.025, "metal")  # buckle


def _flip_flops(c: _Canvas, rng: np.random.Generator) -> None:
    """Top view of the pair."""
    for x in (0.32, 0.68):
        c.ellipse(x, 0.52, 0.14, 0.38)
        c.ellipse(x, 0.52, 0.1, 0.33, "light", outline=False)
        c.line([(x - 0.12, 0.5), (x, 0.27), (x + 0.12, 0.5)], "dark", 0.03)


# ---- accessories ----

def _watch(c: _Canvas, rng: np.random.Generator) -> None:
    c.rect(0.4, 0.04, 0.6, 0.36)
    c.rect(0.4, 0.64, 0.6, 0.96)
    for y in (0.74, 0.8, 0.86):
        c.ellipse(0.5, y, 0.012, 0.012, "dark", outline=False)
    c.rect(0.7, 0.47, 0.75, 0.53, "metal")  # crown
    c.ellipse(0.5, 0.5, 0.22, 0.22, "dark")
    c.ellipse(0.5, 0.5, 0.17, 0.17, "face")
    for angle in range(0, 360, 30):
        a = math.radians(angle)
        c.line([(0.5 + 0.14 * math.cos(a), 0.5 + 0.14 * math.sin(a)),
                (0.5 + 0.16 * math.cos(a), 0.5 + 0.16 * math.sin(a))], "ink", 0.01)
    hour, minute = rng.uniform(0, 2 * math.pi, 2)
    c.line([(0.5, 0.5), (0.5 + 0.09 * math.cos(hour), 0.5 + 0.09 * math.sin(hour))], "ink", 0.018)
    c.line([(0.5, 0.5), (0.5 + 0.14 * math.cos(minute), 0.5 + 0.14 * math.sin(minute))], "ink", 0.012)


def _handbag(c: _Canvas, rng: np.random.Generator) -> None:
    c.band(0.5, 0.44, 0.24, 0.3, 0.04, 180, 360, "dark")
    c.polygon([(0.18, 0.42), (0.82, 0.42), (0.88, 0.88), (0.12, 0.88)])
    if rng.random() < 0.5:  # a flap
        c.polygon([(0.18, 0.42), (0.82, 0.42), (0.8, 0.58), (0.2, 0.58)], "dark")
    c.rect(0.46, 0.54, 0.54, 0.62, "metal")


def _backpack(c: _Canvas, rng: np.random.Generator) -> None:
    c.band(0.5, 0.16, 0.09, 0.07, 0.025, 180, 360, "dark")
    c.rounded_rect(0.22, 0.14, 0.78, 0.92, 0.1)
    c.rounded_rect(0.3, 0.56, 0.7, 0.86, 0.05, "dark")
    c.line([(0.32, 0.6), (0.68, 0.6)], "metal", 0.01)
    c.line([(0.26, 0.3), (0.74, 0.3)], "metal", 0.01)
    if rng.random() < 0.5:
        c.rect(0.44, 0.38, 0.56, 0.46, "contrast", outline=False)  # a brand patch


def _belt(c: _Canvas, rng: np.random.Generator) -> None:
    c.polygon([(0.04, 0.47), (0.86, 0.45), (0.86, 0.55), (0.04, 0.57), (0.02, 0.52)])
    for x in (0.14, 0.2, 0.26, 0.32):
        c.ellipse(x, 0.52, 0.008, 0.012, "ink", outline=False)
    c.rect(0.78, 0.39, 0.96, 0.61, "metal")
    c.rect(0.81, 0.43, 0.93, 0.57, "main")
    c.line([(0.78, 0.5), (0.87, 0.5)], "metal", 0.015)


def _sunglasses(c: _Canvas, rng: np.random.Generator) -> None:
    c.line([(0.12, 0.44), (0.03, 0.4)], "main", 0.025)
    c.line([(0.88, 0.44), (0.97, 0.4)], "main", 0.025)
    c.band(0.5, 0.48, 0.08, 0.06, 0.025, 200, 340)
    for x in (0.29, 0.71):
        c.ellipse(x, 0.5, 0.19, 0.14)
        c.ellipse(x, 0.5, 0.16, 0.11, "glass", outline=False)


def _cap(c: _Canvas, rng: np.random.Generator) -> None:
    c.polygon([(0.68, 0.6), (0.96, 0.64), (0.93, 0.7), (0.68, 0.68)], "dark")
    c.ellipse(0.46, 0.64, 0.3, 0.34, "main", 180, 360)
    c.line([(0.46, 0.3), (0.3, 0.64)], "dark", 0.01)
    c.line([(0.46, 0.3), (0.62, 0.64)], "dark", 0.01)
    c.ellipse(0.46, 0.3, 0.025, 0.018, "dark")
    if rng.random() < 0.5:
        c.ellipse(0.4, 0.52, 0.06, 0.045, "contrast", outline=False)


def _socks(c: _Canvas, rng: np.random.Generator) -> None:
    """A pair, one sock behind the other."""
    for dx, dy in ((0.12, -0.05), (0.0, 0.0)):
        sock = [(0.26, 0.12), (0.46, 0.12), (0.46, 0.58), (0.74, 0.7), (0.78, 0.78), (0.72, 0.86), (0.36, 0.84),
                (0.26, 0.72)]
        c.polygon([(x + dx, y + dy) for x, y in sock])
        c.rect(0.26 + dx, 0.12 + dy, 0.46 + dx, 0.2 + dy, "dark")
        c.ellipse(0.72 + dx, 0.78 + dy, 0.05, 0.07, "dark", outline=False)


def _wallet(c: _Canvas, rng: np.random.Generator) -> None:
    c.rounded_rect(0.16, 0.28, 0.84, 0.74, 0.04)
    c.line([(0.2, 0.32), (0.8, 0.32), (0.8, 0.7), (0.2, 0.7), (0.2, 0.32)], "light", 0.006)
    if rng.random() < 0.5:  # shown open: the fold and a card slot
        c.line([(0.5, 0.28), (0.5, 0.74)], "dark", 0.015)
        c.rect(0.56, 0.38, 0.78, 0.48, "dark")
    else:
        c.rect(0.44, 0.46, 0.56, 0.54, "metal")


def _tie(c: _Canvas, rng: np.random.Generator) -> None:
    c.polygon([(0.44, 0.2), (0.56, 0.2), (0.62, 0.82), (0.5, 0.94), (0.38, 0.82)])
    if rng.random() < 0.6:  # regimental stripes, kept inside the blade as it widens
        for y in (0.34, 0.48, 0.62, 0.76):
            half = 0.05 + 0.06 * (y - 0.2) / 0.62
            c.line([(0.5 - half, y + 0.03), (0.5 + half, y - 0.03)], "light", 0.02)
    c.polygon([(0.42, 0.08), (0.58, 0.08), (0.55, 0.2), (0.45, 0.2)], "dark")


# ---- personal care ----

def _perfume(c: _Canvas, rng: np.random.Generator) -> None:
    c.rect(0.44, 0.28, 0.56, 0.4, "metal")
    c.rect(0.38, 0.12, 0.62, 0.28, "dark")
    c.rounded_rect(0.28, 0.38, 0.72, 0.9, 0.06)
    c.rect(0.36, 0.56, 0.64, 0.7, "light")


def _deodorant(c: _Canvas, rng: np.random.Generator) -> None:
    c.ellipse(0.5, 0.2, 0.12, 0.08, "dark", 180, 360)
    c.rect(0.38, 0.18, 0.62, 0.92)
    c.rect(0.38, 0.48, 0.62, 0.62, "contrast")


def _lipstick(c: _Canvas, rng: np.random.Generator) -> None:
    c.polygon([(0.43, 0.42), (0.43, 0.26), (0.57, 0.18), (0.57, 0.42)])
    c.rect(0.4, 0.42, 0.6, 0.52, "metal")
    c.rect(0.38, 0.52, 0.62, 0.9, "dark")


def _nail_polish(c: _Canvas, rng: np.random.Generator) -> None:
    c.rect(0.44, 0.14, 0.56, 0.5, "ink")
    c.rounded_rect(0.32, 0.48, 0.68, 0.88, 0.07)
    c.rect(0.38, 0.52, 0.44, 0.8, "light", outline=False)  # the glint on the glass


# --------------------------------------------------------------------------------------------
# The category tree. Subcategory and articleType share a name where the real file does
# (Watches, Belts, Socks, Ties, Wallets, Flip Flops) so the demo exercises ambiguous words.
# --------------------------------------------------------------------------------------------

ARTICLE_TYPES: dict[str, ArticleType] = {
    "Tshirts": ArticleType("Apparel", "Topwear", 7067, MEN_MOSTLY, {"Casual": 85, "Sports": 15}, "T-shirt",
                           CASUAL_APPAREL + SPORTS_BRANDS,
                           ("Printed", "Solid", "Striped", "Polo", "Round Neck", "V-Neck", "Graphic"), _tshirt),
    "Shirts": ArticleType("Apparel", "Topwear", 3217, {"Men": 80, "Women": 15, "Boys": 5},
                          {"Casual": 60, "Formal": 35, "Smart Casual": 5}, "Shirt", CASUAL_APPAREL + FORMAL_APPAREL,
                          ("Slim Fit", "Checked", "Striped", "Formal", "Casual", "Linen"), _shirt),
    "Kurtas": ArticleType("Apparel", "Topwear", 1844, {"Women": 75, "Men": 25}, {"Ethnic": 100}, "Kurta",
                          ("Fabindia", "Biba", "W", "Global Desi", "Manyavar"),
                          ("Printed", "Embroidered", "Cotton", "Straight", "Anarkali"), _kurta),
    "Tops": ArticleType("Apparel", "Topwear", 1762, {"Women": 93, "Girls": 7}, {"Casual": 90, "Party": 10}, "Top",
                        WOMEN_APPAREL, ("Printed", "Solid", "Sleeveless", "Peplum", "Lace"), _top),
    "Sweatshirts": ArticleType("Apparel", "Topwear", 285, MEN_MOSTLY, {"Casual": 80, "Sports": 20}, "Sweatshirt",
                               CASUAL_APPAREL + SPORTS_BRANDS, ("Hooded", "Solid", "Printed", "Fleece"), _sweatshirt,
                               seasons=WARM_WEAR_SEASONS),
    "Jackets": ArticleType("Apparel", "Topwear", 258, MEN_MOSTLY, {"Casual": 80, "Sports": 20}, "Jacket",
                           CASUAL_APPAREL + SPORTS_BRANDS, ("Padded", "Denim", "Leather", "Bomber", "Windcheater"),
                           _jacket, seasons=WARM_WEAR_SEASONS),
    "Jeans": ArticleType("Apparel", "Bottomwear", 609, MEN_MOSTLY, CASUAL, "Jeans", CASUAL_APPAREL,
                         ("Slim Fit", "Skinny Fit", "Regular Fit", "Distressed", "Washed"), _jeans,
                         colours={"Blue": 50, "Navy Blue": 25, "Black": 15, "Grey": 10}),
    "Trousers": ArticleType("Apparel", "Bottomwear", 530, {"Men": 70, "Women": 30}, {"Casual": 50, "Formal": 50},
                            "Trousers", FORMAL_APPAREL, ("Slim Fit", "Formal", "Chino", "Flat-Front", "Pleated"),
                            _trousers, colours={"Black": 30, "Grey": 20, "Navy Blue": 15, "Beige": 15, "Khaki": 8,
                                                "Brown": 6, "Charcoal": 6, "Olive": 5}),
    "Shorts": ArticleType("Apparel", "Bottomwear", 547, {"Men": 70, "Women": 20, "Boys": 10},
                          {"Casual": 60, "Sports": 40}, "Shorts", CASUAL_APPAREL + SPORTS_BRANDS,
                          ("Cargo", "Denim", "Sports", "Printed", "Bermuda"), _shorts),
    "Dresses": ArticleType("Apparel", "Dress", 464, WOMEN_MOSTLY, {"Casual": 80, "Party": 20}, "Dress",
                           WOMEN_APPAREL, ("Printed", "Maxi", "Bodycon", "A-Line", "Shift"), _dress),
    "Casual Shoes": ArticleType("Footwear", "Shoes", 2845, MEN_MOSTLY, CASUAL, "Casual Shoes",
                                ("Woodland", "Red Tape", "Bata", "Converse", "Vans", "Puma"),
                                ("Canvas", "Leather", "Sneaker", "Slip-On", "Loafer"), _casual_shoe),
    "Sports Shoes": ArticleType("Footwear", "Shoes", 2036, MEN_MOSTLY, {"Sports": 100}, "Sports Shoes",
                                SPORTS_BRANDS, ("Running", "Training", "Walking", "Football", "Tennis"), _sports_shoe),
    "Heels": ArticleType("Footwear", "Shoes", 1323, WOMEN_ONLY, {"Casual": 80, "Party": 20}, "Heels",
                         ("Catwalk", "Carlton London", "Inc 5", "Metro", "Rocia"),
                         ("Stiletto", "Peep Toe", "Pump", "Block", "Wedge"), _heel),
    "Formal Shoes": ArticleType("Footwear", "Shoes", 637, {"Men": 95, "Women": 5}, {"Formal": 100}, "Formal Shoes",
                                ("Red Tape", "Clarks", "Hush Puppies", "Bata", "Carlton London"),
                                ("Leather", "Derby", "Oxford", "Brogue", "Monk Strap"), _formal_shoe,
                                colours={"Black": 60, "Brown": 40}),
    "Sandals": ArticleType("Footwear", "Sandal", 897, MEN_AND_WOMEN, CASUAL, "Sandals",
                           ("Woodland", "Bata", "Gliders", "Crocs", "Catwalk"),
                           ("Leather", "Floater", "Strappy", "Casual", "Sports"), _sandal),
    "Flip Flops": ArticleType("Footwear", "Flip Flops", 914, MEN_AND_WOMEN, CASUAL, "Flip Flops",
                              ("Puma", "Havaianas", "Crocs", "Adidas", "Nike"),
                              ("Printed", "Solid", "Rubber", "Beach"), _flip_flops),
    "Watches": ArticleType("Accessories", "Watches", 2542, {"Men": 55, "Women": 40, "Unisex": 5},
                           {"Casual": 85, "Formal": 10, "Sports": 5}, "Watch",
                           ("Titan", "Fastrack", "Casio", "Timex", "Q&Q", "Fossil", "Maxima"),
                           ("Analog", "Digital", "Chronograph", "Dial", "Leather Strap"), _watch,
                           colours={"Black": 35, "Silver": 20, "Brown": 15, "Gold": 10, "White": 8, "Blue": 5,
                                    "Steel": 5, "Red": 2}),
    "Handbags": ArticleType("Accessories", "Bags", 1759, WOMEN_ONLY, CASUAL, "Handbag",
                            ("Baggit", "Lavie", "Hidesign", "Caprese", "Da Milano"),
                            ("Leather", "Tote", "Sling", "Shoulder", "Satchel"), _handbag),
    "Backpacks": ArticleType("Accessories", "Bags", 724, UNISEX_MOSTLY, CASUAL, "Backpack",
                             ("Wildcraft", "American Tourister", "Puma", "Nike", "Skybags"),
                             ("Laptop", "Travel", "Printed", "Rucksack", "Daypack"), _backpack),
    "Sunglasses": ArticleType("Accessories", "Eyewear", 1073, {"Men": 60, "Women": 30, "Unisex": 10}, CASUAL,
                              "Sunglasses", ("Ray-Ban", "Fastrack", "Oakley", "Vincent Chase", "IDEE"),
                              ("Aviator", "Wayfarer", "Square", "Round", "Sports"), _sunglasses,
                              colours={"Black": 45, "Brown": 20, "Gold": 10, "Silver": 10, "Blue": 8, "Red": 4,
                                       "Grey": 3}),
    "Wallets": ArticleType("Accessories", "Wallets", 936, {"Men": 80, "Women": 20}, CASUAL, "Wallet",
                           ("Tommy Hilfiger", "Lino Perros", "Woodland", "Hidesign", "Puma"),
                           ("Leather", "Bi-Fold", "Slim", "Card", "Zip"), _wallet,
                           colours={"Black": 45, "Brown": 40, "Navy Blue": 5, "Red": 4, "Pink": 3, "Beige": 3}),
    "Belts": ArticleType("Accessories", "Belts", 813, {"Men": 90, "Women": 10}, {"Casual": 70, "Formal": 30}, "Belt",
                         ("Tommy Hilfiger", "Lino Perros", "Woodland", "Van Heusen", "Louis Philippe"),
                         ("Leather", "Reversible", "Casual", "Formal", "Canvas"), _belt,
                         colours={"Black": 55, "Brown": 40, "Beige": 5}),
    "Socks": ArticleType("Accessories", "Socks", 686, {"Men": 70, "Unisex": 20, "Women": 10},
                         {"Casual": 80, "Sports": 20}, "Socks", ("Puma", "Reebok", "Adidas", "Jockey", "Nike"),
                         ("Pack of 3", "Ankle", "Sports", "Cotton", "Printed"), _socks),
    "Caps": ArticleType("Accessories", "Headwear", 283, {"Men": 50, "Unisex": 40, "Women": 10},
                        {"Casual": 70, "Sports": 30}, "Cap", SPORTS_BRANDS + ("Wildcraft",),
                        ("Baseball", "Printed", "Solid", "Sports", "Trucker"), _cap),
    "Ties": ArticleType("Accessories", "Ties", 258, MEN_ONLY, {"Formal": 100}, "Tie", FORMAL_APPAREL,
                        ("Silk", "Striped", "Checked", "Printed", "Slim"), _tie),
    "Perfume and Body Mist": ArticleType("Personal Care", "Fragrance", 614, {"Men": 50, "Women": 50}, CASUAL,
                                         "Perfume", ("Davidoff", "Fogg", "Park Avenue", "Nivea", "Adidas"),
                                         ("Eau de Toilette", "Body Mist", "Eau de Parfum", "Cool Water", "Fresh"),
                                         _perfume),
    "Deodorant": ArticleType("Personal Care", "Fragrance", 347, {"Men": 60, "Women": 40}, CASUAL, "Deodorant",
                             ("Axe", "Fogg", "Nivea", "Adidas", "Park Avenue"),
                             ("Dark Temptation", "Sport", "Fresh", "Pulse", "Marine"), _deodorant),
    "Lipstick": ArticleType("Personal Care", "Lips", 315, WOMEN_ONLY, CASUAL, "Lipstick",
                            ("Lakme", "Revlon", "Maybelline", "Colorbar", "Elle 18"),
                            ("Matte", "Creme", "Gloss", "Enrich", "Velvet"), _lipstick,
                            colours={"Red": 35, "Pink": 25, "Maroon": 15, "Peach": 8, "Brown": 7, "Purple": 5,
                                     "Magenta": 5}),
    "Nail Polish": ArticleType("Personal Care", "Nails", 329, WOMEN_ONLY, CASUAL, "Nail Polish",
                               ("Lakme", "Revlon", "Maybelline", "Colorbar", "Elle 18"),
                               ("Glossy", "Matte", "Shimmer", "Color Show", "Gel"), _nail_polish,
                               colours={"Red": 25, "Pink": 25, "Purple": 12, "Silver": 8, "Gold": 8, "Black": 6,
                                        "Peach": 8, "Blue": 8}),
}


# --------------------------------------------------------------------------------------------
# Rows
# --------------------------------------------------------------------------------------------


class _Choice:
    """Seeded weighted draws from a value table (a cumulative table: numpy's `choice` is ~10x slower per draw)."""

    def __init__(self, weights: dict):
        self.values = list(weights)
        cumulative = np.cumsum(np.asarray(list(weights.values()), dtype=float))
        self._cumulative = cumulative / cumulative[-1]

    def __call__(self, rng: np.random.Generator):
        index = int(np.searchsorted(self._cumulative, rng.random(), side="right"))
        return self.values[min(index, len(self.values) - 1)]


_TYPE_CHOICE = _Choice({name: t.weight for name, t in ARTICLE_TYPES.items()})
_COLOUR_CHOICE = _Choice(COLOUR_WEIGHTS)
_SEASON_CHOICE = _Choice(SEASON_WEIGHTS)
_YEAR_CHOICE = _Choice(YEAR_WEIGHTS)
_PER_TYPE = {
    name: {
        "gender": _Choice(t.genders),
        "usage": _Choice(t.usages),
        "colour": _Choice(t.colours) if t.colours else _COLOUR_CHOICE,
        "season": _Choice(t.seasons) if t.seasons else _SEASON_CHOICE,
        "brand": _Choice(dict.fromkeys(t.brands, 1)),
        "descriptor": _Choice(dict.fromkeys(t.descriptors, 1)),
    }
    for name, t in ARTICLE_TYPES.items()
}


def _check_count(count: int) -> None:
    capacity = ID_RANGE[1] - ID_RANGE[0] + 1
    if not 1 <= count <= capacity:
        raise CatalogError(f"demo catalog size must be between 1 and {capacity}, got {count}")


def demo_styles(count: int, seed: int = 0) -> pd.DataFrame:
    """`count` clean product rows: id, the 8 attribute columns and productDisplayName, as in the real file."""
    _check_count(count)
    rng = np.random.default_rng(seed)
    ids = rng.choice(np.arange(ID_RANGE[0], ID_RANGE[1] + 1), size=count, replace=False)
    rows = []
    for product_id in ids:
        article = _TYPE_CHOICE(rng)
        kind, draw = ARTICLE_TYPES[article], _PER_TYPE[article]
        gender, colour = draw["gender"](rng), draw["colour"](rng)
        name = " ".join((draw["brand"](rng), gender, colour, draw["descriptor"](rng), kind.noun))
        rows.append((int(product_id), gender, kind.master, kind.sub, article, colour, draw["season"](rng),
                     _YEAR_CHOICE(rng), draw["usage"](rng), name))
    styles = pd.DataFrame(rows, columns=list(DISPLAY_COLUMNS))
    return styles.astype({"id": "int64", "year": "int64"})


def render_product_image(article_type: str, colour: str, size: int = IMAGE_SIZE,
                         seed: int | tuple[int, ...] = 0) -> Image.Image:
    """A product photo stand-in: the articleType's silhouette in the colour, jittered by `seed`."""
    if article_type not in ARTICLE_TYPES:
        raise CatalogError(f"no demo drawing for articleType {article_type!r}")
    if colour not in COLOURS:
        raise CatalogError(f"no demo colour {colour!r}")
    rng = np.random.default_rng(seed)
    canvas = _Canvas(size, rng, _palette(colour, rng))
    ARTICLE_TYPES[article_type].draw(canvas, rng)
    # Slight sensor noise, so no two photos (and no two JPEG encodings) are identical.
    pixels = np.asarray(canvas.image, dtype=np.int16) + rng.integers(-3, 4, size=(size, size, 3), dtype=np.int16)
    return Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8), "RGB")


# --------------------------------------------------------------------------------------------
# The catalog on disk
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DemoCatalog:
    """Where a generated catalog lives; the quirk ids let tests check the reader's reports."""

    csv_path: Path
    images_dir: Path
    count: int  # rows in styles.csv
    missing_image_ids: tuple[int, ...] = ()  # rows whose image file was deliberately not written
    comma_name_ids: tuple[int, ...] = ()  # rows whose productDisplayName has unquoted commas


def _csv_fields(styles: pd.DataFrame) -> list[list[str]]:
    return [[str(v) for v in row] for row in styles.itertuples(index=False)]


def _apply_quirks(fields: list[list[str]], styles: pd.DataFrame,
                  rng: np.random.Generator) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """Reproduce the real styles.csv's defects on distinct random rows (as many as the catalog has rows for).

    Returns the ids of rows without an image and of rows with unquoted commas in their name.
    """
    column = {name: i for i, name in enumerate(DISPLAY_COLUMNS)}
    count = len(fields)
    order = iter(rng.permutation(count))
    missing, commas = [], []

    def take(n: int):
        for _ in range(n):
            index = next(order, None)
            if index is None:
                return
            yield index

    for i in take(2):
        missing.append(int(styles.iat[i, 0]))
    for extra, i in enumerate(take(2), start=1):
        # "Puma Men Black, Grey Running Sports Shoes": joining the surplus fields with "," restores the name.
        colour = styles.at[i, "baseColour"]
        others = [c for c in ("White", "Grey", "Red", "Blue") if c != colour][:extra]
        name = styles.at[i, "productDisplayName"]
        fields[i][column["productDisplayName"]] = name.replace(f" {colour} ", f" {', '.join([colour, *others])} ", 1)
        commas.append(int(styles.at[i, "id"]))
    for i in take(max(3, count // 100)):
        fields[i][column["year"]] += ".0"
    for i in take(max(2, count // 300)):
        fields[i][column["usage"]] = "NA"
    for name in ("baseColour", "season", "usage", "productDisplayName", "year"):
        for i in take(1):
            fields[i][column[name]] = ""
    return tuple(missing), tuple(commas)


def make_demo_catalog(out_dir: Path, count: int = 600, seed: int = 0, image_size: int = IMAGE_SIZE,
                      quirks: bool = True, progress: Callable[[int], None] | None = None) -> DemoCatalog:
    """Write `out_dir/styles.csv` and `out_dir/images/{id}.jpg` for `count` demo products.

    Same seed, same bytes. With `quirks`, a few rows carry the real file's defects (unquoted commas
    in names, `2011.0` years, empty cells, usage `NA`) and 2 rows have no image file.
    `progress` is called with 1 after each image is written.
    """
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise CatalogError(f"{out_dir} exists and is not a folder")
    if image_size < 32:
        raise CatalogError(f"demo image size must be at least 32 pixels, got {image_size}")
    styles = demo_styles(count, seed)
    fields = _csv_fields(styles)
    missing, commas = _apply_quirks(fields, styles, np.random.default_rng((seed, 1))) if quirks else ((), ())

    images_dir = out_dir / "images"
    images_dir.mkdir(parents=True, exist_ok=True)
    csv_path = out_dir / "styles.csv"
    # Written by hand, not with the csv module: the quirk rows must NOT be quoted.
    with csv_path.open("w", encoding="utf-8", newline="") as out:
        out.write(",".join(DISPLAY_COLUMNS) + "\n")
        out.writelines(",".join(row) + "\n" for row in fields)

    for row in styles.itertuples(index=False):
        path = images_dir / f"{row.id}.jpg"
        if row.id in missing:
            path.unlink(missing_ok=True)  # a stale file from an earlier run would hide the quirk
            continue
        # Seeded per product, so an image does not depend on which other rows were generated.
        image = render_product_image(row.articleType, row.baseColour, image_size, seed=(seed, row.id))
        image.save(path, "JPEG", quality=90)
        if progress is not None:
            progress(1)
    return DemoCatalog(csv_path, images_dir, count, missing, commas)


def main(argv: list[str] | None = None) -> None:
    """`python -m catalog.demo OUT_DIR --count N`: write a demo catalog to look at."""
    parser = argparse.ArgumentParser(prog="python -m catalog.demo", description=main.__doc__)
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--count", type=int, default=600)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--image-size", type=int, default=IMAGE_SIZE)
    parser.add_argument("--no-quirks", dest="quirks", action="store_false")
    args = parser.parse_args(argv)
    try:
        demo = make_demo_catalog(args.out_dir, args.count, args.seed, args.image_size, args.quirks)
    except CatalogError as error:
        parser.exit(1, f"Error: {error}\n")
    print(f"{demo.count} products: {demo.csv_path} and {demo.images_dir}/")


if __name__ == "__main__":
    main()


# --------------------------------------------------------------------------------------------
# `catalog demo`: write, ingest, and run the README's first examples
# --------------------------------------------------------------------------------------------


@dataclass
class DemoRun:
    """What `catalog demo` did: the files, the ingest, and the two example searches it shows."""

    made: DemoCatalog
    report: object  # ingest.pipeline.IngestReport
    example: int  # a topwear product with a photo, like the paper's 19549 sweatshirt
    db_flag: str  # " --db PATH" when the database is not the default, for the printed commands
    similar: object  # catalog.results.SearchResults of `similar EXAMPLE --space all`
    query: object  # catalog.results.SearchResults of `query --id EXAMPLE --plus green,shoes --minus topwear`


def run_demo(catalog, out_dir: Path, count: int = 600, seed: int = 0, image_size: int = IMAGE_SIZE,
             walks: int | None = None, reporter=None,
             on_catalog: Callable[[DemoCatalog], None] | None = None) -> DemoRun:
    """Generate the demo catalog in `out_dir`, ingest it into `catalog` (`--weights random`) and run the examples."""
    from catalog.store import default_db_path

    made = make_demo_catalog(out_dir, count=count, seed=seed, image_size=image_size)
    if on_catalog is not None:
        on_catalog(made)
    report = catalog.ingest(made.csv_path, made.images_dir, weights="random", seed=seed, image_size=image_size,
                            walks=walks, reporter=reporter)
    example = demo_example(catalog.store)
    db_flag = "" if catalog.path == default_db_path() else f" --db {catalog.path}"
    similar = catalog.similar(example, k=6, space="all")
    query = catalog.query(ids=[example], plus="green,shoes", minus="topwear", k=6)
    return DemoRun(made, report, example, db_flag, similar, query)


def demo_example(store) -> int:
    """A topwear product with a photo, like the paper's 19549 sweatshirt."""
    rows = store.table("products").search().where("subCategory = 'Topwear' AND has_image = true").select(["id"]).limit(1).to_list()
    if not rows:
        rows = store.table("products").search().where("has_image = true").select(["id"]).limit(1).to_list()
    return int(rows[0]["id"])
