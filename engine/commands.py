"""Payloads of every command, validated at the edge; each names its lifecycle step and its message.

These are the shapes the upstream platform, operators and members send (as Temporal signal and
update arguments, or through the CLI), and the shapes the workflow hands to the recording
activity. A class says once which update (or signal) carries it: `class Claim(Command,
update="claim")`; the tables below are built from those declarations. Their JSON Schemas are
published by `microdemand schema`.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Literal, Union

from pydantic import Field, field_validator, model_validator

from engine.credentials import Credential
from engine.lifecycle import Step
from engine.values import (
    AwareDatetime,
    Hours,
    Location,
    Name,
    Note,
    Reason,
    Reference,
    Resident,
    Slug,
    Text,
    Title,
    Value,
)
from engine.vocabulary import Channel, Kind, Priority, Rating


def demand_id_for(source: str, external_id: str) -> str:
    """The workflow id, and the demand's id everywhere: `demand-<source>-<external_id>`."""
    return f"demand-{source}-{external_id}"


_COMMANDS: list[type[Command]] = []


class Command(Value):
    """Base of every command: the step it asks for, and the workflow message that carries it.

    `update` (or `signal`) names the workflow update (or signal) a caller sends it with; commands
    with neither are the workflow's own (timers, the absorb that follows a merge).
    """

    step: Step
    actor: Credential | None = Field(
        default=None, description="Set by microdemand's own CLI and HTTP API only; platforms leave it out."
    )
    update: ClassVar[str | None] = None
    signal: ClassVar[str | None] = None

    def __init_subclass__(cls, update: str | None = None, signal: str | None = None, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.update, cls.signal = update, signal
        _COMMANDS.append(cls)

    @property
    def verb(self) -> str:
        """The step as people say it: `follow-up`, `claim`."""
        return self.step.value.replace("_", "-")


class Submission(Command, signal="submit"):
    """A demand pushed by the upstream platform (signal `submit`) or typed in by a grid worker."""

    step: Literal[Step.COLLECT] = Step.COLLECT
    source: Slug = Field(description="The system the demand comes from, e.g. `wechat` or `hotline`.")
    external_id: Slug = Field(description="The demand's id in that system; unique per source.")
    kind: Kind
    title: Title
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


class Amend(Command):
    """The platform pushed a collected demand again with changed content (before anyone claimed it)."""

    step: Literal[Step.AMEND] = Step.AMEND
    kind: Kind
    title: Title
    description: Text = ""
    channel: Channel
    category: Name = "general"
    priority: Priority = Priority.GENERAL
    post: Name | None = None
    location: Location
    resident: Resident
    reported_at: AwareDatetime | None = None

    @classmethod
    def of(cls, submission: Submission) -> Amend:
        """The amendment a repeated push with changed content asks for."""
        return cls.model_validate(submission.model_dump(exclude={"step", "source", "external_id", "actor"}))


class Supplement(Command, signal="supplement"):
    """The resident adds to an open demand: more text, or references to photos or documents."""

    step: Literal[Step.SUPPLEMENT] = Step.SUPPLEMENT
    by: Name = "resident"
    text: Note = ""
    attachments: tuple[Reference, ...] = Field(default=(), max_length=10)

    @model_validator(mode="after")
    def _something(self) -> Supplement:
        if not self.text and not self.attachments:
            raise ValueError("a supplement needs text or at least one attachment")
        return self


class Dispatch(Command, update="dispatch"):
    """The community offers a demand to a post, a group or a member (派单)."""

    step: Literal[Step.DISPATCH] = Step.DISPATCH
    by: Name
    to: Name = Field(description="The post, group or member the demand is offered to.")
    note: Note = ""


class Claim(Command, update="claim"):
    """A member (with co-claimants for a group) and their unit take a demand (认领)."""

    step: Literal[Step.CLAIM] = Step.CLAIM
    member: Name
    unit: Name
    co_claimants: tuple[Name, ...] = Field(default=(), max_length=20)


class Release(Command, update="release"):
    """The claimant gives a claimed demand back."""

    step: Literal[Step.RELEASE] = Step.RELEASE
    member: Name
    reason: Reason


class Handle(Command, update="handle"):
    """The claimant reports the demand done: hours spent, a note, evidence."""

    step: Literal[Step.HANDLE] = Step.HANDLE
    member: Name
    hours: Hours
    note: Note = ""
    evidence: tuple[Reference, ...] = Field(default=(), max_length=20)


class FollowUp(Command, update="follow_up"):
    """The community checks with the resident whether it is really resolved (跟踪回访)."""

    step: Literal[Step.FOLLOW_UP] = Step.FOLLOW_UP
    worker: Name
    resolved: bool
    note: Note = ""


class Evaluate(Command, update="evaluate", signal="evaluation"):
    """The resident's rating; an unsatisfied one reopens the demand."""

    step: Literal[Step.EVALUATE] = Step.EVALUATE
    rating: Rating
    comment: Note = ""
    by: Name = "resident"


class Withdraw(Command, update="withdraw", signal="withdrawal"):
    """The resident (or an operator for them) withdraws the demand."""

    step: Literal[Step.WITHDRAW] = Step.WITHDRAW
    by: Name = "resident"
    reason: Reason


class Complain(Command, update="complain", signal="complaint"):
    """A resident's late complaint about a closed demand: it reopens it, and its points are given back
    until it closes again. Taken while the demand's workflow is kept (the complaint window)."""

    step: Literal[Step.REOPEN] = Step.REOPEN
    by: Name = "resident"
    reason: Reason

    @property
    def verb(self) -> str:
        """`complain`: what the resident does (the step is the reopen it causes)."""
        return "complain"


class Escalate(Command, update="escalate"):
    """An operator moves a demand one level up the ladder by hand."""

    step: Literal[Step.ESCALATE] = Step.ESCALATE
    by: Name
    reason: Reason


class Transfer(Command, update="transfer"):
    """An operator hands a difficult demand to another unit or department (转办)."""

    step: Literal[Step.TRANSFER] = Step.TRANSFER
    by: Name
    to_unit: Name
    reason: Reason


class Reassign(Command, update="reassign"):
    """An operator gives a claimed demand to another member."""

    step: Literal[Step.REASSIGN] = Step.REASSIGN
    by: Name
    member: Name
    unit: Name
    reason: Reason


class Extend(Command, update="extend"):
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


class Merge(Command, update="merge"):
    """An operator closes a duplicate into its original; both histories stay."""

    step: Literal[Step.MERGE] = Step.MERGE
    by: Name
    into: Name = Field(description="The demand id of the original.")
    reason: Reason = "duplicate"


class Absorb(Command):
    """The original of a merge takes in the duplicate's reporter, so both get the feedback.

    Carries only the duplicate's id: the store looks the reporter up, so personal data never
    travels through Temporal's history.
    """

    step: Literal[Step.ABSORB] = Step.ABSORB
    by: Name
    duplicate_id: Name


class Commend(Command, update="commend"):
    """Praise for good work (反馈表扬), which earns points."""

    step: Literal[Step.COMMEND] = Step.COMMEND
    by: Name
    note: Note = ""


class Warn(Command):
    """The workflow's timer: the running time limit is nearly used up."""

    step: Literal[Step.WARN] = Step.WARN


class MarkOverdue(Command):
    """The workflow's timer: the deadline passed; escalate one level unless at the top."""

    step: Literal[Step.MARK_OVERDUE] = Step.MARK_OVERDUE


class CloseUnrated(Command):
    """The workflow's timer: the evaluation window passed without a rating."""

    step: Literal[Step.CLOSE] = Step.CLOSE


TIMER_COMMANDS: dict[Step, type[Warn | MarkOverdue | CloseUnrated]] = {
    Step.WARN: Warn,
    Step.MARK_OVERDUE: MarkOverdue,
    Step.CLOSE: CloseUnrated,
}
"""The command a timer step records, when a demand's alarm (`DemandStatus.next_alarm`) comes due."""

if TYPE_CHECKING:
    AnyCommand = Command
else:
    AnyCommand = Annotated[Union[tuple(_COMMANDS)], Field(discriminator="step")]  # noqa: UP007
"""Any command the workflow may ask the store to record, told apart by its step."""

UPDATES: dict[str, type[Command]] = {cls.update: cls for cls in _COMMANDS if cls.update}
"""The `MicroDemand` workflow's updates, with their payload types."""

SIGNALS: dict[str, type[Command]] = {cls.signal: cls for cls in _COMMANDS if cls.signal}
"""The `MicroDemand` workflow's signals from outside (the platform's and the resident's), with payloads."""

UPSTREAM_PAYLOADS: dict[str, type[Command]] = {**SIGNALS, **UPDATES}
"""Every message a caller may send the workflow, with its payload type (published as JSON Schemas)."""
