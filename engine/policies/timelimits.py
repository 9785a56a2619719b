"""The time-limit policy: how long each stage may take per priority, loaded from a TOML file."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from engine.durations import parse_duration
from engine.lifecycle import Step
from engine.policies.files import load_policy
from engine.values import Clock
from engine.vocabulary import Priority, Stage


def _duration(value: object) -> object:
    return parse_duration(value) if isinstance(value, str) and not value.startswith("P") else value


Duration = Annotated[timedelta, BeforeValidator(_duration), Field(gt=timedelta(0))]


class PriorityLimits(BaseModel):
    """One stage's time limit for each priority."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    general: Duration
    important: Duration
    major: Duration

    def for_priority(self, priority: Priority) -> timedelta:
        """The limit for a priority."""
        return getattr(self, priority.value)


class TimeLimits(BaseModel):
    """How long a demand may wait at each stage, when to warn, what an unrated demand does."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    warn_fraction: float = Field(default=0.8, gt=0, lt=1)
    on_evaluation_timeout: Literal["close_unrated", "escalate"] = "close_unrated"
    claim: PriorityLimits
    handle: PriorityLimits
    follow_up: PriorityLimits
    evaluate: PriorityLimits
    escalation: PriorityLimits
    complaint_window: Duration = timedelta(days=30)
    """How long a demand's workflow is kept once its loop has ended: a late complaint can reopen it,
    and every other command gets a refusal naming its state."""

    def limit(self, stage: Stage, priority: Priority) -> timedelta:
        """How long a stage may take for a priority."""
        limits: PriorityLimits = getattr(self, stage.value)
        return limits.for_priority(priority)

    def clock(
        self, stage: Stage, priority: Priority, started_at: datetime, *, due_at: datetime | None = None
    ) -> Clock:
        """A running clock for a stage; `due_at` overrides the limit (escalation, extension)."""
        due = due_at if due_at is not None else started_at + self.limit(stage, priority)
        if stage is Stage.EVALUATE and self.on_evaluation_timeout == "close_unrated":
            return Clock(stage=stage, started_at=started_at, warn_at=None, due_at=due, on_due=Step.CLOSE)
        warn_at = started_at + (due - started_at) * self.warn_fraction
        return Clock(stage=stage, started_at=started_at, warn_at=warn_at, due_at=due)

    def promise(self, priority: Priority, started_at: datetime) -> Clock:
        """The promise to the resident ("2310"): handled within the handling limit of `started_at`
        (collection, or a reopen), whether or not anyone has claimed the demand."""
        return self.clock(Stage.HANDLE, priority, started_at)

    def extended(self, clock: Clock, extra: timedelta) -> Clock:
        """The same clock with its deadline moved later and its warning point moved with it."""
        return self.clock(clock.stage, Priority.GENERAL, clock.started_at, due_at=clock.due_at + extra)

    def escalated(self, stage: Stage, priority: Priority, at: datetime) -> Clock:
        """A fresh clock for a stage at the rung a demand now stands on: the escalation window from now."""
        return self.clock(stage, priority, at, due_at=at + self.escalation.for_priority(priority))


def load_time_limits(path: Path | None = None) -> TimeLimits:
    """Load the policy from `path`, or the defaults shipped with the project."""
    return load_policy(TimeLimits, path, "timelimits.toml", "time-limit policy")
