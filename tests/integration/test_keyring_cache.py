"""The keyring's cache stays bounded (a replay reads every resident's key once) and forgetting still
empties it: a destroyed key is never answered from memory."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from adapters import keyring as keyring_module
from adapters.keyring import ResidentKeyring


def test_the_cache_keeps_at_most_its_bound_and_a_forgotten_key_stays_forgotten(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(keyring_module, "CACHE_ENTRIES", 10)
    keyring = ResidentKeyring(codec_key=os.urandom(32), sqlite_path=tmp_path / "keyring.db")
    try:
        made = dict(keyring.current(f"phone:{n}", f"name:{n}", b"{}") for n in range(30))
        assert len(keyring._cache) <= 10
        kids = list(made)
        assert keyring.find_many(kids) == made  # more than the cache holds: all read, all right
        assert len(keyring._cache) <= 10
        assert all(keyring.find(kid) == key for kid, key in made.items())
        assert len(keyring._cache) <= 10
        kept = kids[-1]
        assert keyring.find(kept) == made[kept]
        keyring.forget([kept])
        assert keyring.find(kept) is None
        assert keyring.find_many([kept, kids[0]]) == {kept: None, kids[0]: made[kids[0]]}
    finally:
        keyring.close()
