"""A long-running server's heap: what it loaded to start is set aside from the garbage collector."""

from __future__ import annotations

import gc


def settle() -> None:
    """Collect once, then keep every object alive now (modules, schemas, the app) out of later
    collections (`gc.freeze`): a full collection then walks what requests made, not everything the
    process loaded, and a request's tail latency is its own work rather than such a sweep."""
    gc.collect()
    gc.freeze()


def unsettle() -> None:
    """Hand the set-aside objects back to the collector (a server stopping inside a longer process)."""
    gc.unfreeze()
