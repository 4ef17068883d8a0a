"""Core: the vocabulary every other layer shares (columns, errors, keys, photo decoding, photo
features, vectors, metrics, space names). It imports nothing of the project."""
