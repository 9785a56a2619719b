"""The end-to-end fixture: `microdemand up` in a subprocess, as `make run` starts it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from test_cli_stack import Stack


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[Stack]:
    """The whole stack with its own var/ and ports; killed if a test leaves it running."""
    running = Stack(tmp_path / "var")
    running.start()
    yield running
    if running.process and running.process.poll() is None:
        running.process.kill()
