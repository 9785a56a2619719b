"""`microdemand import FILE.jsonl`: demands from before, with their own times, into the system.

Each line is a `PastDemand` (engine/past.py), lived again through the aggregate: every step
checked by the rules, the timers fired between by the workflow's own rule, up to now. A demand
that ended before the complaint window goes straight to the store (no workflow: the store answers
for it, as it does once Temporal forgets one); an open one, or one that ended within the window
(a resident may still complain), is stored as it stands and handed to its workflow with a push
of its submission (signal-with-start), which the store answers with the stored status, so the
workflow adopts the demand and its timers (or its wait for a complaint) run on from there. A
demand already in the store is left as it is: importing a file again changes nothing.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, Iterator
from datetime import datetime
from pathlib import Path

from eventsourcing.persistence import IntegrityError
from pydantic import BaseModel, Field, ValidationError

from adapters.bootstrap import System
from adapters.demands_client import DemandsClient
from engine.application import Demands
from engine.demand import MicroDemand
from engine.eventmodel import ACTOR
from engine.lifecycle import Refused
from engine.past import PastDemand, relive, submission_of
from engine.values import field_errors

BATCH = 200
"""Demands lived and stored per transaction."""


class Refusal(BaseModel):
    """A line that was not imported: where, which demand (if it could be read), and why."""

    line: int
    demand_id: str | None = None
    why: str


class ImportReport(BaseModel):
    """What an import did, line by line counted."""

    lines: int = 0
    stored: int = Field(default=0, description="Demands that had ended, now in the store.")
    started: int = Field(
        default=0,
        description="Demands open, or ended within the complaint window, stored and handed to a workflow.",
    )
    unchanged: int = Field(default=0, description="Demands the store held already (a re-import).")
    sample: int = Field(default=0, description="Lines marked as sample data.")
    refused: list[Refusal] = Field(default_factory=list)


def read_lines(path: Path) -> Iterator[tuple[int, PastDemand | Refusal]]:
    """Each non-empty line of the file as a past demand, or the reason it cannot be one."""
    with path.open(encoding="utf-8") as lines:
        for number, text in enumerate(lines, start=1):
            if not text.strip():
                continue
            try:
                yield number, PastDemand.model_validate(json.loads(text))
            except json.JSONDecodeError as error:
                yield number, Refusal(line=number, why=f"not JSON: {error.msg}")
            except ValidationError as error:
                yield number, Refusal(line=number, why=field_errors(error))


def count_lines(path: Path) -> int:
    """How many lines the file has (for the progress bar)."""
    with path.open("rb") as file:
        return sum(1 for line in file if line.strip())


async def import_file(
    system: System,
    path: Path,
    connect: Callable[[], Awaitable[DemandsClient]],
    *,
    now: datetime,
    actor: str = "import",
    on_progress: Callable[[int], None] | None = None,
) -> ImportReport:
    """Import every line of `path` as of `now`, each event recording `actor` as who brought it in;
    Temporal is connected to (`connect`) only if a demand is still open."""
    report = ImportReport()
    client: DemandsClient | None = None
    batch: list[tuple[int, PastDemand]] = []
    with system.store() as store:

        async def flush() -> None:
            nonlocal client
            opened = await asyncio.to_thread(_store, store, batch, now, report, actor)
            if opened:
                client = client or await connect()
                await _hand_over(client, opened)
                report.started += sum(1 for _, new in opened if new)
            batch.clear()

        for number, item in read_lines(path):
            report.lines += 1
            if isinstance(item, Refusal):
                report.refused.append(item)
            else:
                report.sample += item.sample
                batch.append((number, item))
            if len(batch) >= BATCH:
                await flush()
            if on_progress is not None:
                on_progress(report.lines)
        await flush()
    report.refused.sort(key=lambda refusal: refusal.line)
    return report


def _store(
    store: Demands, batch: list[tuple[int, PastDemand]], now: datetime, report: ImportReport, actor: str
) -> list[tuple[MicroDemand, bool]]:
    """Live the batch's demands again and store the new ones together; the open ones (new or not)."""
    token = ACTOR.set(actor)
    try:
        return _store_batch(store, batch, now, report)
    finally:
        ACTOR.reset(token)


def _store_batch(
    store: Demands, batch: list[tuple[int, PastDemand]], now: datetime, report: ImportReport
) -> list[tuple[MicroDemand, bool]]:
    lived: list[MicroDemand] = []
    opened: list[tuple[MicroDemand, bool]] = []
    for number, past in batch:
        if store.known(past.demand_id):
            report.unchanged += 1
            demand = store.get(past.demand_id)
            if _runs_on(demand, store, now):
                opened.append((demand, False))  # its workflow is told again: a push changes nothing
            continue
        try:
            demand = relive(past, store.limits, now)
        except (Refused, ValueError) as error:
            report.refused.append(Refusal(line=number, demand_id=past.demand_id, why=str(error)))
            continue
        lived.append(demand)
    open_now = {d.demand_id for d in lived if _runs_on(d, store, now)}
    try:
        store.save(*lived)
        written = [d.demand_id for d in lived]
    except IntegrityError:  # another import wrote one of them meanwhile: one by one, as they are now
        written = _one_by_one(store, batch, now)
    for demand_id in written:
        if demand_id in open_now:
            opened.append((store.get(demand_id), True))
        else:
            report.stored += 1
    report.unchanged += len(lived) - len(written)
    return opened


def _runs_on(demand: MicroDemand, store: Demands, now: datetime) -> bool:
    """Whether the demand needs its workflow now: open, or ended but kept for a late complaint."""
    if demand.state.is_open:
        return True
    kept_until = demand.status(store.limits).kept_until
    return kept_until is not None and kept_until > now


def _one_by_one(store: Demands, batch: list[tuple[int, PastDemand]], now: datetime) -> list[str]:
    written = []
    for _, past in batch:
        if store.known(past.demand_id):
            continue
        try:
            store.save(relive(past, store.limits, now))
            written.append(past.demand_id)
        except (IntegrityError, Refused, ValueError):
            continue
    return written


async def _hand_over(client: DemandsClient, opened: list[tuple[MicroDemand, bool]]) -> None:
    """Push each demand's submission (signal-with-start): its workflow adopts it from the store."""
    limit = asyncio.Semaphore(16)

    async def one(demand: MicroDemand) -> None:
        async with limit:
            await client.submit(submission_of(demand))

    await asyncio.gather(*(one(demand) for demand, _ in opened))
