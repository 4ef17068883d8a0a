"""The one exception type a user sees as a one-line message (exit 1)."""


class CatalogError(Exception):
    """A user or data error: the CLI prints `Error: <message>` on one line and exits 1."""


class NotFound(CatalogError):
    """A product (or other named thing) that is not in the database: HTTP 404 in `catalog serve`."""
