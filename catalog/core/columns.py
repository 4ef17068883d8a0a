"""The styles.csv schema shared by the reader, the graph, the store and the renderer."""

from catalog.core.keys import attribute_key  # noqa: F401  (where the graph code has always found it)

# The 8 categorical columns that become attribute nodes in the graph (paper, section 1).
ATTRIBUTE_COLUMNS = (
    "gender",
    "masterCategory",
    "subCategory",
    "articleType",
    "baseColour",
    "season",
    "year",
    "usage",
)
NAME_COLUMN = "productDisplayName"
# The short names tables and pages use as headers (and that `catalog attributes colour` accepts).
SHORT_NAMES = {
    "gender": "gender",
    "masterCategory": "master",
    "subCategory": "sub",
    "articleType": "article",
    "baseColour": "colour",
    "season": "season",
    "year": "year",
    "usage": "usage",
}
# Columns of the paper's appendix tables, in order.
DISPLAY_COLUMNS = ("id", *ATTRIBUTE_COLUMNS, NAME_COLUMN)

IMAGE_SIZE = 256  # the paper bilinear-resizes every photo to 256x256
IMAGE_DIM = 128  # I_ResNet output
NODE_DIM = 32  # G_n2v output
THUMBNAIL_SIZE = 96  # longest side of the JPEG thumbnail stored in each row
