"""Headless Chromium (Debian's `chromium`) for tests that open a page as a person would."""

from __future__ import annotations

import subprocess
from pathlib import Path

from machine import chromium


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
            "--no-first-run", "--disable-background-networking", "--disable-component-update",
            "--host-resolver-rules=MAP * ~NOTFOUND",  # anything the page tried to fetch would fail
            *args,
        ],
        capture_output=True, text=True, timeout=120, check=True,
    )  # fmt: skip


def dom_of(page: Path) -> str:
    """The page's DOM after the browser has loaded and laid it out."""
    return _run("--dump-dom", page.resolve().as_uri()).stdout


def screenshot(page: Path, out: Path, width: int = 1280, height: int = 2600) -> Path:
    """A PNG of the page as the browser drew it."""
    _run(f"--screenshot={out}", f"--window-size={width},{height}", page.resolve().as_uri())
    assert out.exists(), f"chromium drew no screenshot of {page}"
    return out
