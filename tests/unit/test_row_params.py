"""Statement parameters of a row: times and ids converted as the dialect writes them, and the
conversions remembered within a bound (a replay converts every event's times)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from pydantic import BaseModel

from projections import sql
from projections.sql import SQLiteDialect, row_params


class Row(BaseModel):
    id: uuid.UUID
    at: datetime
    n: int


def test_conversions_stay_bounded_and_right(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sql, "CONVERSIONS_KEPT", 5)
    monkeypatch.setattr(sql, "_converted", {})  # what other tests converted is not this one's
    monkeypatch.setattr(sql, "_converted_before", {})
    dialect = SQLiteDialect()
    start = datetime(2025, 1, 1, tzinfo=UTC)
    rows = [Row(id=uuid.uuid4(), at=start + timedelta(seconds=n), n=n) for n in range(40)]
    for _ in range(2):
        for row in rows:
            assert row_params(dialect, row) == {"id": str(row.id), "at": dialect.value(row.at), "n": row.n}
            assert len(sql._converted) + len(sql._converted_before) <= 10
