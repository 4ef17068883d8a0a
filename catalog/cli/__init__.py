"""The `catalog` command line, a face over `Catalog`: `main` assembles the group from the command
modules; `options` holds the shared options and helpers; `render`, `html` and `output` turn results
into a terminal, JSON, CSV or an HTML page."""
