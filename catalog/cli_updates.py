"""Catalog update commands: remove, rebuild, history, rollback."""

from __future__ import annotations

import click  # noqa: F401

COMMANDS: list = []
