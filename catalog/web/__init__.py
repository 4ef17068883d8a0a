"""The web app (`catalog serve`), a face over `Catalog`: `app` assembles it from the page and API routers."""
