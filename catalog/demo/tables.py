"""The demo's value tables: the category tree, and how often each value occurs.

Weights are rounded counts from the real 44k-row file, so the demo keeps its skew. Each
articleType sits under one subCategory and masterCategory and has its drawing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from catalog.demo.drawing import (  # the drawings the category tree names
    Canvas,
    backpack,
    belt,
    cap,
    casual_shoe,
    deodorant,
    dress,
    flip_flops,
    formal_shoe,
    handbag,
    heel,
    jacket,
    jeans,
    kurta,
    lipstick,
    nail_polish,
    perfume,
    sandal,
    shirt,
    shorts,
    socks,
    sports_shoe,
    sunglasses,
    sweatshirt,
    tie,
    top,
    trousers,
    tshirt,
    wallet,
    watch,
)

# Ids are drawn without replacement from the range the real file uses.
ID_RANGE = (1526, 60000)

COLOUR_WEIGHTS = {
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
    "Beige": 748,
    "Gold": 631,
    "Maroon": 625,
    "Orange": 539,
    "Olive": 410,
    "Cream": 387,
    "Steel": 315,
    "Charcoal": 228,
    "Peach": 185,
    "Teal": 141,
    "Khaki": 139,
    "Magenta": 64,
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

CASUAL_APPAREL = (
    "Roadster",
    "Wrangler",
    "Flying Machine",
    "Locomotive",
    "United Colors of Benetton",
    "Mufti",
    "Highlander",
    "Basics",
    "Proline",
)
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
    draw: Callable[[Canvas, np.random.Generator], None]
    colours: dict[str, float] | None = None  # None: the catalog-wide colour skew
    seasons: dict[str, float] | None = None  # None: the catalog-wide season skew


# --------------------------------------------------------------------------------------------
# The category tree. Subcategory and articleType share a name where the real file does
# (Watches, Belts, Socks, Ties, Wallets, Flip Flops) so the demo exercises ambiguous words.
# --------------------------------------------------------------------------------------------

ARTICLE_TYPES: dict[str, ArticleType] = {
    "Tshirts": ArticleType(
        "Apparel",
        "Topwear",
        7067,
        MEN_MOSTLY,
        {"Casual": 85, "Sports": 15},
        "T-shirt",
        CASUAL_APPAREL + SPORTS_BRANDS,
        ("Printed", "Solid", "Striped", "Polo", "Round Neck", "V-Neck", "Graphic"),
        tshirt,
    ),
    "Shirts": ArticleType(
        "Apparel",
        "Topwear",
        3217,
        {"Men": 80, "Women": 15, "Boys": 5},
        {"Casual": 60, "Formal": 35, "Smart Casual": 5},
        "Shirt",
        CASUAL_APPAREL + FORMAL_APPAREL,
        ("Slim Fit", "Checked", "Striped", "Formal", "Casual", "Linen"),
        shirt,
    ),
    "Kurtas": ArticleType(
        "Apparel",
        "Topwear",
        1844,
        {"Women": 75, "Men": 25},
        {"Ethnic": 100},
        "Kurta",
        ("Fabindia", "Biba", "W", "Global Desi", "Manyavar"),
        ("Printed", "Embroidered", "Cotton", "Straight", "Anarkali"),
        kurta,
    ),
    "Tops": ArticleType(
        "Apparel",
        "Topwear",
        1762,
        {"Women": 93, "Girls": 7},
        {"Casual": 90, "Party": 10},
        "Top",
        WOMEN_APPAREL,
        ("Printed", "Solid", "Sleeveless", "Peplum", "Lace"),
        top,
    ),
    "Sweatshirts": ArticleType(
        "Apparel",
        "Topwear",
        285,
        MEN_MOSTLY,
        {"Casual": 80, "Sports": 20},
        "Sweatshirt",
        CASUAL_APPAREL + SPORTS_BRANDS,
        ("Hooded", "Solid", "Printed", "Fleece"),
        sweatshirt,
        seasons=WARM_WEAR_SEASONS,
    ),
    "Jackets": ArticleType(
        "Apparel",
        "Topwear",
        258,
        MEN_MOSTLY,
        {"Casual": 80, "Sports": 20},
        "Jacket",
        CASUAL_APPAREL + SPORTS_BRANDS,
        ("Padded", "Denim", "Leather", "Bomber", "Windcheater"),
        jacket,
        seasons=WARM_WEAR_SEASONS,
    ),
    "Jeans": ArticleType(
        "Apparel",
        "Bottomwear",
        609,
        MEN_MOSTLY,
        CASUAL,
        "Jeans",
        CASUAL_APPAREL,
        ("Slim Fit", "Skinny Fit", "Regular Fit", "Distressed", "Washed"),
        jeans,
        colours={"Blue": 50, "Navy Blue": 25, "Black": 15, "Grey": 10},
    ),
    "Trousers": ArticleType(
        "Apparel",
        "Bottomwear",
        530,
        {"Men": 70, "Women": 30},
        {"Casual": 50, "Formal": 50},
        "Trousers",
        FORMAL_APPAREL,
        ("Slim Fit", "Formal", "Chino", "Flat-Front", "Pleated"),
        trousers,
        colours={
            "Black": 30,
            "Grey": 20,
            "Navy Blue": 15,
            "Beige": 15,
            "Khaki": 8,
            "Brown": 6,
            "Charcoal": 6,
            "Olive": 5,
        },
    ),
    "Shorts": ArticleType(
        "Apparel",
        "Bottomwear",
        547,
        {"Men": 70, "Women": 20, "Boys": 10},
        {"Casual": 60, "Sports": 40},
        "Shorts",
        CASUAL_APPAREL + SPORTS_BRANDS,
        ("Cargo", "Denim", "Sports", "Printed", "Bermuda"),
        shorts,
    ),
    "Dresses": ArticleType(
        "Apparel",
        "Dress",
        464,
        WOMEN_MOSTLY,
        {"Casual": 80, "Party": 20},
        "Dress",
        WOMEN_APPAREL,
        ("Printed", "Maxi", "Bodycon", "A-Line", "Shift"),
        dress,
    ),
    "Casual Shoes": ArticleType(
        "Footwear",
        "Shoes",
        2845,
        MEN_MOSTLY,
        CASUAL,
        "Casual Shoes",
        ("Woodland", "Red Tape", "Bata", "Converse", "Vans", "Puma"),
        ("Canvas", "Leather", "Sneaker", "Slip-On", "Loafer"),
        casual_shoe,
    ),
    "Sports Shoes": ArticleType(
        "Footwear",
        "Shoes",
        2036,
        MEN_MOSTLY,
        {"Sports": 100},
        "Sports Shoes",
        SPORTS_BRANDS,
        ("Running", "Training", "Walking", "Football", "Tennis"),
        sports_shoe,
    ),
    "Heels": ArticleType(
        "Footwear",
        "Shoes",
        1323,
        WOMEN_ONLY,
        {"Casual": 80, "Party": 20},
        "Heels",
        ("Catwalk", "Carlton London", "Inc 5", "Metro", "Rocia"),
        ("Stiletto", "Peep Toe", "Pump", "Block", "Wedge"),
        heel,
    ),
    "Formal Shoes": ArticleType(
        "Footwear",
        "Shoes",
        637,
        {"Men": 95, "Women": 5},
        {"Formal": 100},
        "Formal Shoes",
        ("Red Tape", "Clarks", "Hush Puppies", "Bata", "Carlton London"),
        ("Leather", "Derby", "Oxford", "Brogue", "Monk Strap"),
        formal_shoe,
        colours={"Black": 60, "Brown": 40},
    ),
    "Sandals": ArticleType(
        "Footwear",
        "Sandal",
        897,
        MEN_AND_WOMEN,
        CASUAL,
        "Sandals",
        ("Woodland", "Bata", "Gliders", "Crocs", "Catwalk"),
        ("Leather", "Floater", "Strappy", "Casual", "Sports"),
        sandal,
    ),
    "Flip Flops": ArticleType(
        "Footwear",
        "Flip Flops",
        914,
        MEN_AND_WOMEN,
        CASUAL,
        "Flip Flops",
        ("Puma", "Havaianas", "Crocs", "Adidas", "Nike"),
        ("Printed", "Solid", "Rubber", "Beach"),
        flip_flops,
    ),
    "Watches": ArticleType(
        "Accessories",
        "Watches",
        2542,
        {"Men": 55, "Women": 40, "Unisex": 5},
        {"Casual": 85, "Formal": 10, "Sports": 5},
        "Watch",
        ("Titan", "Fastrack", "Casio", "Timex", "Q&Q", "Fossil", "Maxima"),
        ("Analog", "Digital", "Chronograph", "Dial", "Leather Strap"),
        watch,
        colours={"Black": 35, "Silver": 20, "Brown": 15, "Gold": 10, "White": 8, "Blue": 5, "Steel": 5, "Red": 2},
    ),
    "Handbags": ArticleType(
        "Accessories",
        "Bags",
        1759,
        WOMEN_ONLY,
        CASUAL,
        "Handbag",
        ("Baggit", "Lavie", "Hidesign", "Caprese", "Da Milano"),
        ("Leather", "Tote", "Sling", "Shoulder", "Satchel"),
        handbag,
    ),
    "Backpacks": ArticleType(
        "Accessories",
        "Bags",
        724,
        UNISEX_MOSTLY,
        CASUAL,
        "Backpack",
        ("Wildcraft", "American Tourister", "Puma", "Nike", "Skybags"),
        ("Laptop", "Travel", "Printed", "Rucksack", "Daypack"),
        backpack,
    ),
    "Sunglasses": ArticleType(
        "Accessories",
        "Eyewear",
        1073,
        {"Men": 60, "Women": 30, "Unisex": 10},
        CASUAL,
        "Sunglasses",
        ("Ray-Ban", "Fastrack", "Oakley", "Vincent Chase", "IDEE"),
        ("Aviator", "Wayfarer", "Square", "Round", "Sports"),
        sunglasses,
        colours={"Black": 45, "Brown": 20, "Gold": 10, "Silver": 10, "Blue": 8, "Red": 4, "Grey": 3},
    ),
    "Wallets": ArticleType(
        "Accessories",
        "Wallets",
        936,
        {"Men": 80, "Women": 20},
        CASUAL,
        "Wallet",
        ("Tommy Hilfiger", "Lino Perros", "Woodland", "Hidesign", "Puma"),
        ("Leather", "Bi-Fold", "Slim", "Card", "Zip"),
        wallet,
        colours={"Black": 45, "Brown": 40, "Navy Blue": 5, "Red": 4, "Pink": 3, "Beige": 3},
    ),
    "Belts": ArticleType(
        "Accessories",
        "Belts",
        813,
        {"Men": 90, "Women": 10},
        {"Casual": 70, "Formal": 30},
        "Belt",
        ("Tommy Hilfiger", "Lino Perros", "Woodland", "Van Heusen", "Louis Philippe"),
        ("Leather", "Reversible", "Casual", "Formal", "Canvas"),
        belt,
        colours={"Black": 55, "Brown": 40, "Beige": 5},
    ),
    "Socks": ArticleType(
        "Accessories",
        "Socks",
        686,
        {"Men": 70, "Unisex": 20, "Women": 10},
        {"Casual": 80, "Sports": 20},
        "Socks",
        ("Puma", "Reebok", "Adidas", "Jockey", "Nike"),
        ("Pack of 3", "Ankle", "Sports", "Cotton", "Printed"),
        socks,
    ),
    "Caps": ArticleType(
        "Accessories",
        "Headwear",
        283,
        {"Men": 50, "Unisex": 40, "Women": 10},
        {"Casual": 70, "Sports": 30},
        "Cap",
        SPORTS_BRANDS + ("Wildcraft",),
        ("Baseball", "Printed", "Solid", "Sports", "Trucker"),
        cap,
    ),
    "Ties": ArticleType(
        "Accessories",
        "Ties",
        258,
        MEN_ONLY,
        {"Formal": 100},
        "Tie",
        FORMAL_APPAREL,
        ("Silk", "Striped", "Checked", "Printed", "Slim"),
        tie,
    ),
    "Perfume and Body Mist": ArticleType(
        "Personal Care",
        "Fragrance",
        614,
        {"Men": 50, "Women": 50},
        CASUAL,
        "Perfume",
        ("Davidoff", "Fogg", "Park Avenue", "Nivea", "Adidas"),
        ("Eau de Toilette", "Body Mist", "Eau de Parfum", "Cool Water", "Fresh"),
        perfume,
    ),
    "Deodorant": ArticleType(
        "Personal Care",
        "Fragrance",
        347,
        {"Men": 60, "Women": 40},
        CASUAL,
        "Deodorant",
        ("Axe", "Fogg", "Nivea", "Adidas", "Park Avenue"),
        ("Dark Temptation", "Sport", "Fresh", "Pulse", "Marine"),
        deodorant,
    ),
    "Lipstick": ArticleType(
        "Personal Care",
        "Lips",
        315,
        WOMEN_ONLY,
        CASUAL,
        "Lipstick",
        ("Lakme", "Revlon", "Maybelline", "Colorbar", "Elle 18"),
        ("Matte", "Creme", "Gloss", "Enrich", "Velvet"),
        lipstick,
        colours={"Red": 35, "Pink": 25, "Maroon": 15, "Peach": 8, "Brown": 7, "Purple": 5, "Magenta": 5},
    ),
    "Nail Polish": ArticleType(
        "Personal Care",
        "Nails",
        329,
        WOMEN_ONLY,
        CASUAL,
        "Nail Polish",
        ("Lakme", "Revlon", "Maybelline", "Colorbar", "Elle 18"),
        ("Glossy", "Matte", "Shimmer", "Color Show", "Gel"),
        nail_polish,
        colours={"Red": 25, "Pink": 25, "Purple": 12, "Silver": 8, "Gold": 8, "Black": 6, "Peach": 8, "Blue": 8},
    ),
}
