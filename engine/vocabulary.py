"""The words of the domain as plain enums: kinds, channels, priorities, ratings, outcomes, the ladder.

No third-party imports: the CLI builds its choices from these without loading pydantic.
"""

from __future__ import annotations

from enum import StrEnum


class Kind(StrEnum):
    """A micro-wish (微心愿) or a micro-appeal (微诉求)."""

    WISH = "wish"
    APPEAL = "appeal"


class Channel(StrEnum):
    """Where a demand was collected."""

    NOTICE = "notice"
    MAILBOX = "mailbox"
    DOOR_TO_DOOR = "door_to_door"
    WISH_WALL = "wish_wall"
    WECHAT = "wechat"
    HOTLINE_12345 = "hotline_12345"
    SNAPSHOT_APP = "snapshot_app"
    PLATFORM = "platform"
    MEMBER_FOUND = "member_found"


class Priority(StrEnum):
    """How weighty a demand is; sets its time limits (the "2310" rule)."""

    GENERAL = "general"
    IMPORTANT = "important"
    MAJOR = "major"


class Rating(StrEnum):
    """The resident's evaluation."""

    SATISFIED = "satisfied"
    BASICALLY_SATISFIED = "basically_satisfied"
    UNSATISFIED = "unsatisfied"

    @property
    def is_positive(self) -> bool:
        """Satisfied or basically satisfied: the demand may close."""
        return self is not Rating.UNSATISFIED

    @property
    def outcome(self) -> Outcome:
        """The outcome a demand closed with this rating has."""
        return Outcome(self.value)


class Outcome(StrEnum):
    """How a demand's loop ended: the rating it closed with, no rating, or withdrawn or merged."""

    SATISFIED = "satisfied"
    BASICALLY_SATISFIED = "basically_satisfied"
    UNSATISFIED = "unsatisfied"
    NOT_RATED = "not_rated"
    WITHDRAWN = "withdrawn"
    MERGED = "merged"

    @property
    def closes(self) -> bool:
        """Whether a demand can close with this outcome (and earn points by it)."""
        return self not in {Outcome.WITHDRAWN, Outcome.MERGED}


class Place(StrEnum):
    """A rung of the place hierarchy every demand belongs to, from the grid up to the city."""

    GRID = "grid"
    COMMUNITY = "community"
    STREET = "street"
    DISTRICT = "district"
    CITY = "city"


class Level(StrEnum):
    """Rungs of the organisation ladder a demand can be escalated along (the grid is not one)."""

    COMMUNITY = "community"
    STREET = "street"
    DISTRICT = "district"
    CITY = "city"

    @property
    def above(self) -> Level | None:
        """The next rung up, or None at the top."""
        ladder = list(Level)
        index = ladder.index(self)
        return ladder[index + 1] if index + 1 < len(ladder) else None


class Stage(StrEnum):
    """Which clock runs: what the demand is waiting for."""

    CLAIM = "claim"
    HANDLE = "handle"
    FOLLOW_UP = "follow_up"
    EVALUATE = "evaluate"


class AccountKind(StrEnum):
    """Whose points: a member's, or the unit the member registered with ("dual points")."""

    MEMBER = "member"
    UNIT = "unit"


class Role(StrEnum):
    """What someone is to the system."""

    PLATFORM = "platform"  # the upstream platform: pushes demands, relays residents' messages
    OPERATOR = "operator"  # a community, street, district or city worker, within a scope
    MEMBER = "member"  # a party member (red cell) who claims and handles demands
    ANALYST = "analyst"  # reads figures, histories (masked), exports and reports
    RESIDENT = "resident"  # follows and answers for their own demands
    ADMINISTRATOR = "administrator"  # everything, and manages identities and keys


class Act(StrEnum):
    """Things someone may ask for besides the lifecycle's steps (which are acts too)."""

    READ = "read"  # a demand's status and (masked) history, the ticket list
    REVEAL = "reveal"  # a resident's name, phone and address (each reveal is recorded)
    FIGURES = "figures"  # rates, the overdue board, what-if, reports, exports without personal data
    POINTS = "points"  # a member's or unit's points and time bank
    REDEEM = "redeem"  # spend a member's points
    REBUILD = "rebuild"  # rebuild, verify and swap views
    MANAGE = "manage"  # identities and tokens
    FORGET = "forget"  # destroy a resident's key
