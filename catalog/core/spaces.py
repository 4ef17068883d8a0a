"""The latent spaces a search runs in, and what each face calls them.

The three spaces of the paper's appendix, by which stored vector queries which column:

- `image`: a product's image vector   against image vectors
- `graph`: its node vector            against node vectors
- `rec`:   its translated vector      against product node vectors (the paper's Rec)

`catalog eval` adds `random` (random picks, the chance baseline).
"""

from __future__ import annotations

SPACES = ("image", "graph", "rec")  # the paper's appendix order, used by `similar --space all`
SPACE_COLUMNS = {
    # space: (column holding the query vector, column searched)
    "rec": ("rec_vector", "node_vector"),
    "image": ("image_vector", "image_vector"),
    "graph": ("node_vector", "node_vector"),
}
EVAL_SPACES = ("rec", "image", "graph", "random")  # the order of `catalog eval`'s tables and `plot eval`

# Terminal table titles.
SPACE_TITLES = {"image": "image space", "graph": "graph space", "rec": "Rec (image → linker → graph)"}
# Headings of the --html page, where there is room to say what each space is.
SPACE_HEADINGS = {
    "image": "Image space: nearest photos",
    "graph": "Graph space: nearest by attributes (node2vec)",
    "rec": "Rec: photo → image vector → linker → graph space",
}
# Column titles of `catalog eval` (the graph space is the upper reference there).
EVAL_TITLES = {"rec": "Rec", "image": "image", "graph": "graph (ref.)", "random": "random"}
# Legend labels of `catalog plot eval`.
PLOT_LABELS = {
    "rec": "Rec (photo → linker → graph)",
    "image": "image space",
    "graph": "graph space (reference)",
    "random": "random",
}
