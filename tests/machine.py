"""What the tests may expect of the machine: whether this is CI, and where its Chromium is."""

from __future__ import annotations

import os
import shutil

import pytest

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
"""In CI nothing is skipped for want of a part: a missing one fails the run."""


def chromium() -> str:
    """Debian's Chromium; skipped outside CI when it is not installed, a failure in CI."""
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        if IN_CI:
            pytest.fail("chromium is required in CI (apt-get install chromium)")
        pytest.skip("chromium is not installed")
    return found
