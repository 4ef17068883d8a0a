"""catalog: recommendations from linked image and graph latent spaces (Kamath & Franco), on LanceDB.

    >>> from catalog import Catalog
    >>> Catalog("db").similar(1163, k=3).ids      # doctest: +SKIP

Importing this package has no side effects and imports neither LanceDB nor TensorFlow: the database
is opened on the first read, TensorFlow only when a photo is encoded.
"""

from catalog.api import Catalog
from catalog.core.errors import CatalogError, NotFound
from catalog.models.encoder import Encoder
from catalog.results import (
    AttributeCount,
    AttributeCounts,
    CatalogInfo,
    History,
    Inference,
    PhotoResults,
    Product,
    ProductPage,
    SearchResults,
)

__version__ = "0.1.0"

__all__ = [
    "AttributeCount",
    "AttributeCounts",
    "Catalog",
    "CatalogError",
    "CatalogInfo",
    "Encoder",
    "History",
    "Inference",
    "NotFound",
    "PhotoResults",
    "Product",
    "ProductPage",
    "SearchResults",
    "__version__",
]
