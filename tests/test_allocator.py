"""The ingest's malloc settings (ingest/allocator.py): applied on glibc, never over the user's own."""

from __future__ import annotations

import platform

import pytest

from ingest.allocator import ARENAS, MMAP_THRESHOLD, reuse_freed_memory

glibc = pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="mallopt is glibc's")


@glibc
def test_the_settings_apply_where_the_user_set_none(monkeypatch):
    for variable in ("MALLOC_ARENA_MAX", "MALLOC_MMAP_THRESHOLD_", "GLIBC_TUNABLES"):
        monkeypatch.delenv(variable, raising=False)
    assert reuse_freed_memory() == {"MALLOC_ARENA_MAX": ARENAS, "MALLOC_MMAP_THRESHOLD_": MMAP_THRESHOLD}


@glibc
def test_the_users_own_settings_win(monkeypatch):
    monkeypatch.delenv("GLIBC_TUNABLES", raising=False)
    monkeypatch.delenv("MALLOC_MMAP_THRESHOLD_", raising=False)
    monkeypatch.setenv("MALLOC_ARENA_MAX", "8")
    assert reuse_freed_memory() == {"MALLOC_MMAP_THRESHOLD_": MMAP_THRESHOLD}
    monkeypatch.setenv("GLIBC_TUNABLES", "glibc.malloc.arena_max=4")
    assert reuse_freed_memory() == {}
