"""Measuring: `catalog eval` (held-out precision, arithmetic, inference) and the pictures (`plot`)."""
