"""What analysts can export, and in which formats: plain words, cheap to import for the CLI's choices."""

from __future__ import annotations

from enum import StrEnum


class Dataset(StrEnum):
    """What can be exported: the store's events, the demand index's rows, the points ledger's entries."""

    EVENTS = "events"
    INDEX = "index"
    POINTS = "points"


class Format(StrEnum):
    """File formats: one JSON object a line, comma-separated values, or Apache Parquet."""

    JSONL = "jsonl"
    CSV = "csv"
    PARQUET = "parquet"
