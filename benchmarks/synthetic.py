"""A synthetic styles table with the Fashion Product Images catalog's shape, for scale benchmarks.

Cardinalities and skew follow the real styles.csv (44,446 rows): 5 genders, 7 master
categories, 45 sub-categories, ~143 article types nested consistently under them, 46 colours,
4 seasons, years 2007-2019, 8 usages, and a small share of empty cells. A few real
dependencies are kept (bras and sarees are for women, sports shoes are for sports, kurtas are
ethnic) so that neighbours in the graph space mean something.

Products repeat combinations of attribute values as real catalogs do (a brand lists the same
black summer t-shirt in many sizes and prints): rows are drawn from a Pitman–Yor process whose
"tables" each take one combination from the independent draw above. Its two parameters are
calibrated so that the number of distinct combinations per catalog size matches random subsets
of the real 44,446-row file (1,000 -> 730 ... 44,446 -> 7,247; see benchmarks/README.md,
"Synthetic catalog"). This is for timing, memory and graph-space quality at scale, not for
judging recommendations.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from catalog.core.columns import ATTRIBUTE_COLUMNS, NAME_COLUMN

# (masterCategory, subCategory, articleType, count in a 44k catalog), approximately the real counts.
ARTICLE_TYPES: tuple[tuple[str, str, str, int], ...] = (
    ("Apparel", "Topwear", "Tshirts", 7070),
    ("Apparel", "Topwear", "Shirts", 3217),
    ("Apparel", "Topwear", "Kurtas", 1844),
    ("Apparel", "Topwear", "Tops", 1762),
    ("Apparel", "Topwear", "Sweatshirts", 285),
    ("Apparel", "Topwear", "Sweaters", 277),
    ("Apparel", "Topwear", "Jackets", 258),
    ("Apparel", "Topwear", "Kurtis", 234),
    ("Apparel", "Topwear", "Tunics", 229),
    ("Apparel", "Topwear", "Dupatta", 116),
    ("Apparel", "Topwear", "Rain Jacket", 18),
    ("Apparel", "Topwear", "Waistcoat", 15),
    ("Apparel", "Topwear", "Blazers", 8),
    ("Apparel", "Topwear", "Shrug", 6),
    ("Apparel", "Topwear", "Nehru Jackets", 3),
    ("Apparel", "Topwear", "Lehenga Choli", 3),
    ("Apparel", "Topwear", "Belts", 2),
    ("Apparel", "Bottomwear", "Jeans", 609),
    ("Apparel", "Bottomwear", "Shorts", 547),
    ("Apparel", "Bottomwear", "Trousers", 530),
    ("Apparel", "Bottomwear", "Track Pants", 304),
    ("Apparel", "Bottomwear", "Leggings", 177),
    ("Apparel", "Bottomwear", "Capris", 175),
    ("Apparel", "Bottomwear", "Skirts", 128),
    ("Apparel", "Bottomwear", "Jeggings", 34),
    ("Apparel", "Bottomwear", "Salwar", 32),
    ("Apparel", "Bottomwear", "Stockings", 32),
    ("Apparel", "Bottomwear", "Churidar", 30),
    ("Apparel", "Bottomwear", "Rompers", 12),
    ("Apparel", "Bottomwear", "Patiala", 7),
    ("Apparel", "Bottomwear", "Salwar and Dupatta", 7),
    ("Apparel", "Bottomwear", "Tights", 6),
    ("Apparel", "Innerwear", "Briefs", 849),
    ("Apparel", "Innerwear", "Bra", 477),
    ("Apparel", "Innerwear", "Innerwear Vests", 242),
    ("Apparel", "Innerwear", "Trunk", 140),
    ("Apparel", "Innerwear", "Camisoles", 111),
    ("Apparel", "Innerwear", "Boxers", 52),
    ("Apparel", "Innerwear", "Shapewear", 8),
    ("Apparel", "Dress", "Dresses", 464),
    ("Apparel", "Dress", "Jumpsuit", 16),
    ("Apparel", "Loungewear and Nightwear", "Nightdress", 189),
    ("Apparel", "Loungewear and Nightwear", "Night suits", 141),
    ("Apparel", "Loungewear and Nightwear", "Lounge Pants", 61),
    ("Apparel", "Loungewear and Nightwear", "Lounge Shorts", 40),
    ("Apparel", "Loungewear and Nightwear", "Lounge Tshirts", 36),
    ("Apparel", "Loungewear and Nightwear", "Baby Dolls", 27),
    ("Apparel", "Loungewear and Nightwear", "Bath Robe", 12),
    ("Apparel", "Loungewear and Nightwear", "Robe", 4),
    ("Apparel", "Saree", "Sarees", 427),
    ("Apparel", "Apparel Set", "Kurta Sets", 93),
    ("Apparel", "Apparel Set", "Tracksuits", 80),
    ("Apparel", "Apparel Set", "Swimwear", 17),
    ("Apparel", "Apparel Set", "Clothing Set", 8),
    ("Apparel", "Apparel Set", "Suits", 1),
    ("Apparel", "Socks", "Booties", 2),
    ("Accessories", "Watches", "Watches", 2542),
    ("Accessories", "Bags", "Handbags", 1759),
    ("Accessories", "Bags", "Backpacks", 724),
    ("Accessories", "Bags", "Clutches", 290),
    ("Accessories", "Bags", "Duffel Bag", 88),
    ("Accessories", "Bags", "Laptop Bag", 82),
    ("Accessories", "Bags", "Messenger Bag", 44),
    ("Accessories", "Bags", "Mobile Pouch", 34),
    ("Accessories", "Bags", "Tablet Sleeve", 22),
    ("Accessories", "Bags", "Waist Pouch", 17),
    ("Accessories", "Bags", "Travel Accessory", 12),
    ("Accessories", "Bags", "Rucksacks", 4),
    ("Accessories", "Bags", "Trolley Bag", 3),
    ("Accessories", "Wallets", "Wallets", 936),
    ("Accessories", "Eyewear", "Sunglasses", 1073),
    ("Accessories", "Belts", "Belts", 813),
    ("Accessories", "Jewellery", "Earrings", 416),
    ("Accessories", "Jewellery", "Pendant", 176),
    ("Accessories", "Jewellery", "Necklace and Chains", 160),
    ("Accessories", "Jewellery", "Ring", 118),
    ("Accessories", "Jewellery", "Bangle", 85),
    ("Accessories", "Jewellery", "Bracelet", 66),
    ("Accessories", "Jewellery", "Jewellery Set", 58),
    ("Accessories", "Socks", "Socks", 686),
    ("Accessories", "Ties", "Ties", 263),
    ("Accessories", "Headwear", "Caps", 283),
    ("Accessories", "Headwear", "Headband", 4),
    ("Accessories", "Headwear", "Hat", 3),
    ("Accessories", "Scarves", "Scarves", 118),
    ("Accessories", "Cufflinks", "Cufflinks", 108),
    ("Accessories", "Cufflinks", "Ties and Cufflinks", 2),
    ("Accessories", "Accessories", "Accessory Gift Set", 99),
    ("Accessories", "Accessories", "Key chain", 2),
    ("Accessories", "Stoles", "Stoles", 90),
    ("Accessories", "Mufflers", "Mufflers", 38),
    ("Accessories", "Gloves", "Gloves", 20),
    ("Accessories", "Shoe Accessories", "Shoe Accessories", 24),
    ("Accessories", "Shoe Accessories", "Shoe Laces", 1),
    ("Accessories", "Sports Accessories", "Wristbands", 4),
    ("Accessories", "Wristbands", "Wristbands", 7),
    ("Accessories", "Umbrellas", "Umbrellas", 6),
    ("Accessories", "Water Bottle", "Water Bottle", 7),
    ("Footwear", "Shoes", "Casual Shoes", 2846),
    ("Footwear", "Shoes", "Sports Shoes", 2036),
    ("Footwear", "Shoes", "Heels", 1323),
    ("Footwear", "Shoes", "Formal Shoes", 637),
    ("Footwear", "Shoes", "Flats", 500),
    ("Footwear", "Flip Flops", "Flip Flops", 916),
    ("Footwear", "Sandal", "Sandals", 897),
    ("Footwear", "Sandal", "Sports Sandals", 67),
    ("Personal Care", "Fragrance", "Perfume and Body Mist", 614),
    ("Personal Care", "Fragrance", "Deodorant", 347),
    ("Personal Care", "Fragrance", "Fragrance Gift Set", 40),
    ("Personal Care", "Perfumes", "Perfume and Body Mist", 6),
    ("Personal Care", "Lips", "Lipstick", 315),
    ("Personal Care", "Lips", "Lip Gloss", 144),
    ("Personal Care", "Lips", "Lip Liner", 45),
    ("Personal Care", "Lips", "Lip Care", 21),
    ("Personal Care", "Lips", "Lip Plumper", 4),
    ("Personal Care", "Nails", "Nail Polish", 329),
    ("Personal Care", "Nails", "Nail Essentials", 3),
    ("Personal Care", "Makeup", "Kajal and Eyeliner", 102),
    ("Personal Care", "Makeup", "Foundation and Primer", 76),
    ("Personal Care", "Makeup", "Highlighter and Blush", 33),
    ("Personal Care", "Makeup", "Compact", 26),
    ("Personal Care", "Makeup", "Eyeshadow", 26),
    ("Personal Care", "Makeup", "Mascara", 16),
    ("Personal Care", "Makeup", "Concealer", 13),
    ("Personal Care", "Makeup", "Makeup Remover", 4),
    ("Personal Care", "Skin Care", "Face Moisturisers", 87),
    ("Personal Care", "Skin Care", "Sunscreen", 14),
    ("Personal Care", "Skin Care", "Face Wash and Cleanser", 10),
    ("Personal Care", "Skin Care", "Eye Cream", 9),
    ("Personal Care", "Skin Care", "Toner", 8),
    ("Personal Care", "Skin Care", "Mask and Peel", 6),
    ("Personal Care", "Skin Care", "Face Scrub and Exfoliator", 4),
    ("Personal Care", "Skin Care", "Face Serum and Gel", 4),
    ("Personal Care", "Skin", "Body Lotion", 3),
    ("Personal Care", "Skin", "Mens Grooming Kit", 1),
    ("Personal Care", "Eyes", "Eye Liner", 2),
    ("Personal Care", "Hair", "Hair Colour", 3),
    ("Personal Care", "Hair", "Hair Accessory", 2),
    ("Personal Care", "Bath and Body", "Body Wash and Scrub", 3),
    ("Personal Care", "Beauty Accessories", "Beauty Accessory", 4),
    ("Free Items", "Free Gifts", "Free Gifts", 104),
    ("Free Items", "Vouchers", "Ipad", 1),
    ("Sporting Goods", "Sports Equipment", "Basketballs", 13),
    ("Sporting Goods", "Sports Equipment", "Footballs", 10),
    ("Sporting Goods", "Sports Equipment", "Sports Equipment", 4),
    ("Home", "Home Furnishing", "Cushion Covers", 1),
)

GENDERS = {"Men": 0.50, "Women": 0.42, "Unisex": 0.045, "Boys": 0.02, "Girls": 0.015}
SEASONS = {"Summer": 0.48, "Fall": 0.26, "Winter": 0.19, "Spring": 0.07}
YEARS = {
    "2012": 0.37,
    "2011": 0.30,
    "2016": 0.14,
    "2017": 0.05,
    "2015": 0.05,
    "2013": 0.03,
    "2014": 0.02,
    "2018": 0.02,
    "2010": 0.009,
    "2009": 0.0005,
    "2008": 0.0003,
    "2007": 0.0001,
    "2019": 0.0001,
}
USAGES = {
    "Casual": 0.78,
    "Sports": 0.09,
    "Ethnic": 0.07,
    "Formal": 0.05,
    "Smart Casual": 0.0015,
    "Party": 0.0007,
    "Travel": 0.0007,
    "Home": 0.0001,
}
COLOURS = {
    "Black": 9728,
    "White": 5538,
    "Blue": 4923,
    "Brown": 3494,
    "Grey": 2741,
    "Red": 2455,
    "Green": 2112,
    "Pink": 1862,
    "Navy Blue": 1789,
    "Purple": 1640,
    "Silver": 1089,
    "Yellow": 781,
    "Beige": 749,
    "Gold": 631,
    "Maroon": 584,
    "Orange": 534,
    "Olive": 410,
    "Multi": 394,
    "Cream": 389,
    "Steel": 315,
    "Charcoal": 228,
    "Peach": 188,
    "Off White": 181,
    "Skin": 178,
    "Lavender": 164,
    "Grey Melange": 146,
    "Khaki": 139,
    "Teal": 117,
    "Magenta": 102,
    "Tan": 91,
    "Mustard": 89,
    "Rust": 63,
    "Bronze": 58,
    "Copper": 58,
    "Turquoise Blue": 56,
    "Coffee Brown": 40,
    "Burgundy": 37,
    "Nude": 37,
    "Mauve": 28,
    "Rose": 21,
    "Metallic": 17,
    "Mushroom Brown": 17,
    "Taupe": 14,
    "Sea Green": 12,
    "Lime Green": 5,
    "Fluorescent Green": 4,
}
BRANDS = (
    "Nike",
    "Puma",
    "Adidas",
    "Reebok",
    "Fila",
    "Lotto",
    "Wrangler",
    "Lee",
    "Peter England",
    "Van Heusen",
    "Jealous 21",
    "Fabindia",
    "Titan",
    "Fastrack",
    "Baggit",
    "Lakme",
    "Gini and Jony",
)

# Real dependencies kept so that attributes are not independent noise.
WOMEN_ONLY = {
    "Bra",
    "Heels",
    "Kurtis",
    "Sarees",
    "Dresses",
    "Tops",
    "Tunics",
    "Leggings",
    "Skirts",
    "Camisoles",
    "Nightdress",
    "Baby Dolls",
    "Dupatta",
    "Handbags",
    "Clutches",
    "Earrings",
    "Lipstick",
    "Lip Gloss",
    "Nail Polish",
    "Kajal and Eyeliner",
    "Flats",
    "Jeggings",
    "Churidar",
    "Salwar",
    "Patiala",
}
MEN_ONLY = {"Briefs", "Trunk", "Boxers", "Innerwear Vests", "Ties", "Cufflinks", "Formal Shoes", "Blazers"}
ETHNIC = {
    "Kurtas",
    "Kurtis",
    "Sarees",
    "Kurta Sets",
    "Dupatta",
    "Churidar",
    "Salwar",
    "Patiala",
    "Salwar and Dupatta",
    "Lehenga Choli",
    "Nehru Jackets",
}
SPORTS = {
    "Sports Shoes",
    "Track Pants",
    "Tracksuits",
    "Sports Sandals",
    "Wristbands",
    "Basketballs",
    "Footballs",
    "Sports Equipment",
    "Swimwear",
}
FORMAL = {"Formal Shoes", "Ties", "Cufflinks", "Blazers", "Trousers", "Suits", "Waistcoat"}
EMPTY_SHARE = {"baseColour": 0.0004, "season": 0.0005, "year": 0.0001, "usage": 0.007, NAME_COLUMN: 0.0002}


def _draw(rng: np.random.Generator, weights: dict[str, float], n: int) -> np.ndarray:
    values = np.array(list(weights), dtype=object)
    probs = np.array(list(weights.values()), dtype=float)
    return values[rng.choice(len(values), size=n, p=probs / probs.sum())]


def _fill_to_shares(rng: np.random.Generator, cells: np.ndarray, shares: dict[str, float]) -> None:
    """Fill the "" cells so that the whole column comes out close to `shares`.

    Some cells were already fixed by an article-type rule; the free ones are drawn from what
    each value still lacks of its target count.
    """
    free = cells == ""
    lacking = {
        value: max(share * cells.size - np.count_nonzero(cells == value), 0.001 * cells.size * share)
        for value, share in shares.items()
    }
    cells[free] = _draw(rng, lacking, int(free.sum()))


# Pitman–Yor discount and concentration, fitted to the real file's distinct combinations at
# 1,000 / 3,000 / 10,000 / 20,000 / 30,000 / 44,446 rows (730 / 1,566 / 3,329 / 4,906 / 6,002 / 7,247):
# the synthetic catalog gives 708 / 1,600 / 3,330 / 4,832 / 6,045 / 7,317 (within 3%).
COMBINATION_DISCOUNT = 0.58
COMBINATION_CONCENTRATION = 450.0


def combination_tables(
    n: int,
    rng: np.random.Generator,
    discount: float = COMBINATION_DISCOUNT,
    concentration: float = COMBINATION_CONCENTRATION,
) -> np.ndarray:
    """The Pitman–Yor "table" (a combination) of each of `n` products, numbered in order of first use.

    Product i opens a new table with probability (concentration + discount * tables) /
    (concentration + i), else joins table j with probability (size_j - discount) / (concentration + i):
    sampled as "join the table of a uniformly chosen earlier product, kept with probability
    (size_j - discount) / size_j, else open a new one". The sequence is exchangeable, so its first
    m products are distributed like a random m-subset, which is how the real figures were taken.
    """
    tables = np.empty(n, np.int64)
    sizes = np.zeros(n, np.int64)
    new_draw, pick, keep = rng.random(n), rng.random(n), rng.random(n)
    opened = 0
    for i in range(n):
        if i and new_draw[i] * (concentration + i) >= concentration:
            table = tables[int(pick[i] * i)]
            if keep[i] * sizes[table] < sizes[table] - discount:
                tables[i] = table
                sizes[table] += 1
                continue
        tables[i] = opened
        sizes[opened] = 1
        opened += 1
    return tables


def synthetic_styles(
    n: int, seed: int = 0, discount: float = COMBINATION_DISCOUNT, concentration: float = COMBINATION_CONCENTRATION
) -> pd.DataFrame:
    """`n` products with ids 1..n, the 8 attribute columns and a display name, as strings."""
    rng = np.random.default_rng(seed)
    tables = combination_tables(n, rng, discount, concentration)
    columns = _independent_rows(int(tables.max(initial=-1)) + 1, rng)
    columns = {column: values[tables] for column, values in columns.items()}
    brand = np.array(BRANDS, dtype=object)[rng.integers(len(BRANDS), size=n)]
    names = brand + " " + columns["gender"] + " " + columns["baseColour"] + " " + columns["articleType"]
    names[rng.random(n) < EMPTY_SHARE[NAME_COLUMN]] = ""
    columns[NAME_COLUMN] = names

    frame = pd.DataFrame({"id": np.arange(1, n + 1, dtype=np.int64)})
    for column in (*ATTRIBUTE_COLUMNS, NAME_COLUMN):
        frame[column] = pd.Series(columns[column], dtype=str)
    return frame


def _independent_rows(n: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """`n` attribute combinations drawn independently (apart from the article-type rules)."""
    table = np.array(ARTICLE_TYPES, dtype=object)
    counts = table[:, 3].astype(float)
    pick = rng.choice(len(table), size=n, p=counts / counts.sum())
    master, sub, article = table[pick, 0], table[pick, 1], table[pick, 2]

    gender = np.full(n, "", dtype=object)
    women = np.isin(article, list(WOMEN_ONLY))
    men = np.isin(article, list(MEN_ONLY))
    gender[women] = np.where(rng.random(women.sum()) < 0.96, "Women", "Girls")
    gender[men] = np.where(rng.random(men.sum()) < 0.97, "Men", "Boys")
    _fill_to_shares(rng, gender, GENDERS)

    usage = np.full(n, "", dtype=object)
    for names, value, share in ((ETHNIC, "Ethnic", 0.9), (SPORTS, "Sports", 0.85), (FORMAL, "Formal", 0.6)):
        usage[np.isin(article, list(names)) & (rng.random(n) < share)] = value
    _fill_to_shares(rng, usage, USAGES)

    columns = {
        "gender": gender,
        "masterCategory": master,
        "subCategory": sub,
        "articleType": article,
        "baseColour": _draw(rng, COLOURS, n),
        "season": _draw(rng, SEASONS, n),
        "year": _draw(rng, YEARS, n),
        "usage": usage,
    }
    for column, share in EMPTY_SHARE.items():
        if column in columns:
            columns[column][rng.random(n) < share] = ""
    return columns
