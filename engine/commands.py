"""Payloads of every command, validated at the edge; each names the lifecycle step it asks for.

These are the shapes the upstream platform, operators and members send (as Temporal signal and
update arguments, or through the CLI), and the shapes the workflow hands to the recording
activity. Their JSON Schemas are published by `microdemand schema`.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Literal

from pydantic import Field, field_validator

from engine.lifecycle import Step
from engine.vocabulary import (
    AwareDatetime,
    Channel,
    Hours,
    Kind,
    Location,
    Name,
    Priority,
    Rating,
    Resident,
    Slug,
    Text,
    Value,
)

Reason = Annotated[str, Field(min_length=1, max_length=1000)]
Note = Annotated[str, Field(max_length=2000)]


def demand_id_for(source: str, external_id: str) -> str:
    """The workflow id, and the demand's id everywhere: `demand-<source>-<external_id>`."""
    return f"demand-{source}-{external_id}"


class Submission(Value):
    """A demand pushed by the upstream platform (signal `submit`) or typed in by a grid worker."""

    step: Literal[Step.COLLECT] = Step.COLLECT
    source: Slug = Field(description="The system the demand comes from, e.g. `wechat` or `hotline`.")
    external_id: Slug = Field(description="The demand's id in that system; unique per source.")
    kind: Kind
    title: Annotated[str, Field(min_length=1, max_length=200)]
    description: Text = ""
    channel: Channel
    category: Name = "general"
    priority: Priority = Priority.GENERAL
    post: Name | None = Field(default=None, description="The 8+X post the demand calls for.")
    location: Location
    resident: Resident
    reported_at: AwareDatetime | None = Field(
        default=None, description="When the resident raised it, if known to the platform."
    )

    @property
    def demand_id(self) -> str:
        """The id of this demand: `demand-<source>-<external_id>`."""
        return demand_id_for(self.source, self.external_id)


class Dispatch(Value):
    """The community offers a demand to a post, a group or a member (派单)."""

    step: Literal[Step.DISPATCH] = Step.DISPATCH
    by: Name
    to: Name = Field(description="The post, group or member the demand is offered to.")
    note: Note = ""


class Claim(Value):
    """A member (with co-claimants for a group) and their unit take a demand (认领)."""

    step: Literal[Step.CLAIM] = Step.CLAIM
    member: Name
    unit: Name
    co_claimants: tuple[Name, ...] = ()


class Release(Value):
    """The claimant gives a claimed demand back."""

    step: Literal[Step.RELEASE] = Step.RELEASE
    member: Name
    reason: Reason


class Handle(Value):
    """The claimant reports the demand done: hours spent, a note, evidence."""

    step: Literal[Step.HANDLE] = Step.HANDLE
    member: Name
    hours: Hours
    note: Note = ""
    evidence: tuple[Annotated[str, Field(max_length=500)], ...] = ()


class FollowUp(Value):
    """The community checks with the resident whether it is really resolved (跟踪回访)."""

    step: Literal[Step.FOLLOW_UP] = Step.FOLLOW_UP
    worker: Name
    resolved: bool
    note: Note = ""


class Evaluate(Value):
    """The resident's rating; an unsatisfied one reopens the demand."""

    step: Literal[Step.EVALUATE] = Step.EVALUATE
    rating: Rating
    comment: Note = ""
    by: Name = "resident"


class Withdraw(Value):
    """The resident (or an operator for them) withdraws the demand."""

    step: Literal[Step.WITHDRAW] = Step.WITHDRAW
    by: Name = "resident"
    reason: Reason


class Escalate(Value):
    """An operator moves a demand one level up the ladder by hand."""

    step: Literal[Step.ESCALATE] = Step.ESCALATE
    by: Name
    reason: Reason


class Transfer(Value):
    """An operator hands a difficult demand to another unit or department (转办)."""

    step: Literal[Step.TRANSFER] = Step.TRANSFER
    by: Name
    to_unit: Name
    reason: Reason


class Reassign(Value):
    """An operator gives a claimed demand to another member."""

    step: Literal[Step.REASSIGN] = Step.REASSIGN
    by: Name
    member: Name
    unit: Name
    reason: Reason


class Extend(Value):
    """An operator moves the current deadline later, with a reason."""

    step: Literal[Step.EXTEND] = Step.EXTEND
    by: Name
    extra: timedelta
    reason: Reason

    @field_validator("extra")
    @classmethod
    def _positive(cls, value: timedelta) -> timedelta:
        if value <= timedelta(0) or value > timedelta(days=365):
            raise ValueError("an extension must be longer than zero and at most a year")
        return value


class Merge(Value):
    """An operator closes a duplicate into its original; both histories stay."""

    step: Literal[Step.MERGE] = Step.MERGE
    by: Name
    into: Name = Field(description="The demand id of the original.")
    reason: Reason = "duplicate"


class Absorb(Value):
    """The original of a merge takes in the duplicate's reporter, so both get the feedback.

    Carries only the duplicate's id: the store looks the reporter up, so personal data never
    travels through Temporal's history.
    """

    step: Literal[Step.ABSORB] = Step.ABSORB
    by: Name
    duplicate_id: Name


class Commend(Value):
    """Praise for good work (反馈表扬), which earns points."""

    step: Literal[Step.COMMEND] = Step.COMMEND
    by: Name
    note: Note = ""


class Warn(Value):
    """The workflow's timer: the running time limit is nearly used up."""

    step: Literal[Step.WARN] = Step.WARN


class MarkOverdue(Value):
    """The workflow's timer: the deadline passed; escalate one level unless at the top."""

    step: Literal[Step.MARK_OVERDUE] = Step.MARK_OVERDUE


class CloseUnrated(Value):
    """The workflow's timer: the evaluation window passed without a rating."""

    step: Literal[Step.CLOSE] = Step.CLOSE


Command = Annotated[
    Submission
    | Dispatch
    | Claim
    | Release
    | Handle
    | FollowUp
    | Evaluate
    | Withdraw
    | Escalate
    | Transfer
    | Reassign
    | Extend
    | Merge
    | Absorb
    | Commend
    | Warn
    | MarkOverdue
    | CloseUnrated,
    Field(discriminator="step"),
]
"""Any command the workflow may ask the store to record."""

UPSTREAM_PAYLOADS: dict[str, type[Value]] = {
    "submit": Submission,
    "dispatch": Dispatch,
    "claim": Claim,
    "release": Release,
    "handle": Handle,
    "follow_up": FollowUp,
    "evaluate": Evaluate,
    "withdraw": Withdraw,
    "escalate": Escalate,
    "transfer": Transfer,
    "reassign": Reassign,
    "extend": Extend,
    "merge": Merge,
    "commend": Commend,
}
"""Signal and update names of the `MicroDemand` workflow, with their payload types."""
