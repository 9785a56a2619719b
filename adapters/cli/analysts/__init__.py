"""Verbs for analysts: histories (as of a moment, beside the workflow's), the figures (as of a moment,
or under other policies), rebuilt views, exports and reports. One module per kind of work."""

from __future__ import annotations

import typer

from adapters.cli.analysts.figures import app as figures
from adapters.cli.analysts.files import app as files
from adapters.cli.analysts.histories import app as histories
from adapters.cli.analysts.rebuilds import app as rebuilds

app = typer.Typer()
for part in (histories, figures, rebuilds, files):
    app.add_typer(part)
