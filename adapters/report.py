"""The analysts' report: one self-contained HTML page for a period and a place, PNG charts beside it.

Every figure comes from the live views' own queries (rates, rankings) or their rows read a page
at a time; every chart is drawn on the server (`adapters.charts`) and inlined as SVG, so the
page fetches nothing when it is opened, and opens offline.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup

from adapters.bootstrap import System
from adapters.charts import Chart, bar_chart, line_chart
from engine.periods import Bucket, Period
from engine.policies.points import from_tenths
from engine.scope import Places, each, named
from engine.vocabulary import AccountKind, Level
from projections.index.models import RateRow
from projections.index.view import DemandIndexView
from projections.pages import index_records, ledger_entries
from projections.points.view import PointsView

TOP_COMMUNITIES = 8


class Report:
    """A rendered report: its HTML and its charts (to write as PNG files beside it)."""

    def __init__(self, html: str, charts: Sequence[Chart]) -> None:
        self.html = html
        self.charts = list(charts)

    def write(self, path: Path) -> list[Path]:
        """Write the page to `path` and each chart as `<stem>-<chart>.png` beside it; the files written."""
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(self.html, encoding="utf-8")
        written = [path]
        for chart in self.charts:
            png = path.with_name(f"{path.stem}-{chart.name}.png")
            png.write_bytes(chart.png)
            written.append(png)
        return written


def bucket_for(period: Period) -> Bucket:
    """Days for a month, weeks for a quarter, months for anything longer."""
    days = (period.last - period.first).days + 1
    return Bucket.DAY if days <= 31 else Bucket.WEEK if days <= 120 else Bucket.MONTH


def bucket_start(bucket: Bucket, day: date) -> date:
    """The first day of the bucket holding `day` (weeks start on Monday, as ISO weeks do)."""
    if bucket is Bucket.WEEK:
        return day - timedelta(days=day.weekday())
    if bucket is Bucket.MONTH:
        return day.replace(day=1)
    return day.replace(month=1, day=1) if bucket is Bucket.YEAR else day


def build_report(system: System, period: Period, scope: Places, now: datetime | None = None) -> Report:
    """Gather the period's figures in `scope` from the views and render the page."""
    now = now or datetime.now(UTC)
    zone = system.local_zone
    since, until = period.window(zone)
    bucket = bucket_for(period)
    offset = system.utc_offset
    with system.index_view() as index, system.points_view() as ledger:
        window: dict[str, Any] = {
            "since": since,
            "until": until,
            "scope": scope,
            "now": now,
            "utc_offset": offset,
        }
        overall = (index.rates(**window) or [RateRow()])[0]
        charts = [
            _rates_by_community(index.rates(by="community", per=bucket, **window)),
            _on_time(index.rates(per=bucket, **window)),
            _escalations(index.rates(by="level", **window)),
            _slowest(index, scope, since, until),
            _ranking("top-members", "Top members by points", ledger, AccountKind.MEMBER, period, scope),
            _ranking(
                "top-units", "Top units by points (dual points)", ledger, AccountKind.UNIT, period, scope
            ),
            _time_bank(system, ledger, period, scope, bucket),
        ]
    where = named(scope)
    template = _templates().get_template("report.html.j2")
    html = template.render(
        period=period.label, where=where, bucket=bucket.value, overall=overall,
        generated=now.astimezone(zone).strftime("%Y-%m-%d %H:%M"), zone=system.zone_label,
        charts=[(chart, Markup(chart.svg)) for chart in charts],  # drawn here; matplotlib escapes its text
        percent=_percent,
    )  # fmt: skip
    return Report(html, charts)


def _templates() -> Environment:
    return Environment(
        loader=PackageLoader("adapters", "templates"), autoescape=select_autoescape(["j2", "html"])
    )


def _percent(value: float | None) -> str:
    return "-" if value is None else f"{value:.1%}"


def _periods(rows: Iterable[RateRow]) -> list[str]:
    return sorted({r.period for r in rows if r.period is not None})


def _rates_by_community(rows: list[RateRow]) -> Chart:
    labels = _periods(rows)
    volume: dict[str, int] = defaultdict(int)
    for row in rows:
        volume[row.key or ""] += row.collected
    keep = sorted(volume, key=lambda k: (-volume[k], k))[:TOP_COMMUNITIES]
    series: dict[str, list[float | None]] = {k: [None] * len(labels) for k in sorted(keep)}
    for row in rows:
        if row.key is not None and row.key in series and row.period is not None:
            series[row.key][labels.index(row.period)] = row.completion_rate
    title = "Completion rate by community, by collection date"
    return line_chart("rates-by-community", title, labels, series, percent=True)


def _on_time(rows: list[RateRow]) -> Chart:
    labels = [r.period or "" for r in rows]
    series = {
        "closed on time": [float(r.closed_on_time) for r in rows],
        "closed late": [float(r.closed - r.closed_on_time) for r in rows],
        "open and overdue now": [float(r.open_overdue) for r in rows],
    }
    return bar_chart(
        "on-time-and-overdue",
        "On time and overdue (demands, by collection date)",
        labels,
        series,
        stacked=True,
        counts=True,
    )


def _escalations(rows: list[RateRow]) -> Chart:
    """Every escalation moves a demand one rung up, so the demands escalated to a rung are those
    standing at it or above it now."""
    ladder = list(Level)
    standing = [next((r.collected for r in rows if r.key == level.value), 0) for level in ladder]
    reached = [float(sum(standing[n:])) for n in range(1, len(ladder))]
    labels = [f"to the {level.value}" for level in ladder[1:]]
    title = "Demands escalated, by the rung they reached"
    return bar_chart("escalations-by-rung", title, labels, {"demands": reached}, counts=True)


def _slowest(index: DemandIndexView, scope: Places, since: datetime, until: datetime) -> Chart:
    days: dict[str, list[float]] = defaultdict(list)
    for record in index_records(index, scope=scope, since=since, until=until):
        if record.closed_at is not None:
            days[record.category].append((record.closed_at - record.collected_at).total_seconds() / 86400)
    medians = sorted(((statistics.median(v), k) for k, v in days.items()), reverse=True)[:10]
    return bar_chart(
        "slowest-categories", "Slowest categories: median days from collection to close",
        [k for _, k in medians], {"median days": [round(m, 2) for m, _ in medians]}, horizontal=True,
    )  # fmt: skip


def _ranking(
    name: str, title: str, ledger: PointsView, kind: AccountKind, period: Period, scope: Places
) -> Chart:
    standings = ledger.ranking(kind, period, scope, limit=10)
    points = [float(s.points) for s in standings]
    return bar_chart(name, title, [s.account for s in standings], {"points": points}, horizontal=True)


def _time_bank(system: System, ledger: PointsView, period: Period, scope: Places, bucket: Bucket) -> Chart:
    earned: dict[date, int] = defaultdict(int)
    members: set[str] = set()
    for _, entry in ledger_entries(ledger, scope=scope, period=period):
        if entry.kind is AccountKind.MEMBER:
            earned[bucket_start(bucket, entry.day)] += entry.tenths
            members.add(entry.account)
    redeemed: dict[date, int] = defaultdict(int)
    zone = system.local_zone
    with system.time_bank(ledger) as bank:
        owners: dict[Any, str] = {}
        position = 0
        while page := bank.recorder.select_notifications(
            start=position, limit=1000, inclusive_of_start=False
        ):
            for note in page:
                event: Any = bank.mapper.to_domain_event(note)
                if type(event).__name__ == "Opened":
                    owners[note.originator_id] = event.member
                elif type(event).__name__ == "Redeemed":
                    day = event.timestamp.astimezone(zone).date()
                    member = owners.get(note.originator_id, "")
                    if day in period and (not each(scope) or member in members):
                        redeemed[bucket_start(bucket, day)] += event.tenths
            position = page[-1].id
    starts = sorted(set(earned) | set(redeemed))
    series = {
        "earned": [float(from_tenths(earned[s])) for s in starts],
        "redeemed": [float(from_tenths(redeemed[s])) for s in starts],
    }
    return bar_chart(
        "time-bank", "The time bank: points earned and redeemed", [bucket.label(s) for s in starts], series
    )
