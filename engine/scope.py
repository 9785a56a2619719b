"""A place on the ladder that listings, rates, rankings and operators' rights are limited to."""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import BaseModel, ConfigDict

from engine.masking import echoed
from engine.values import Location
from engine.vocabulary import Place

SCOPE_HELP = "all, or one place: grid:G, community:C, street:S, district:D or city:X"


class Scope(BaseModel):
    """Everywhere (`place` None), or every demand located in one place, e.g. community Xinhua."""

    model_config = ConfigDict(frozen=True)

    place: Place | None = None
    name: str = ""

    @classmethod
    def parse(cls, text: str | None) -> Scope:
        """Read `all` (or nothing), `community:Xinhua`, `street:Yingbin` ...; ValueError otherwise."""
        cleaned = (text or "").strip()
        if cleaned in {"", "all"}:
            return cls()
        place, _, name = cleaned.partition(":")
        if place not in {p.value for p in Place} or not name.strip():
            raise ValueError(f"not a scope: {echoed(text or '')} (use {SCOPE_HELP})")
        return cls(place=Place(place), name=name.strip())

    @property
    def everywhere(self) -> bool:
        """True when the scope is not limited to a place."""
        return self.place is None

    def contains(self, location: Location) -> bool:
        """Whether a demand located at `location` lies inside this scope."""
        return self.place is None or getattr(location, self.place.value) == self.name

    def __str__(self) -> str:
        return "all" if self.place is None else f"{self.place.value}:{self.name}"


Places = Scope | Sequence[Scope] | None
"""One scope, or several that all hold at once (an operator's own and the one they asked for)."""


def each(places: Places) -> tuple[Scope, ...]:
    """The scopes of `places` that limit anything (everywhere limits nothing)."""
    if places is None:
        return ()
    found = (places,) if isinstance(places, Scope) else tuple(places)
    return tuple(s for s in found if not s.everywhere)


def inside(places: Places, location: Location) -> bool:
    """Whether a demand at `location` lies in every scope of `places`."""
    return all(scope.contains(location) for scope in each(places))


def named(places: Places) -> str:
    """The places as said to people: `everywhere`, or `street Yingbin and community Xinhua`."""
    found = each(places)
    return " and ".join(f"{s.place} {s.name}" for s in found) if found else "everywhere"
