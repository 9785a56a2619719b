"""A demand's page: where it stands, who holds it, its clocks, its timeline, and a form for each act
the viewer's role may do on it now (the role matrix and the transition table decide which)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from adapters.http.auth import services_of
from adapters.http.console.i18n import translator
from adapters.http.console.render import flash, lang_of, page
from adapters.http.console.session import Viewer, checked_form
from adapters.http.errors import classify
from adapters.http.routes.demands import timeline
from engine import commands as c
from engine.access import Role
from engine.lifecycle import Step, allows
from engine.values import field_errors

router = APIRouter(prefix="/console", include_in_schema=False)


@dataclass(frozen=True)
class Field:
    """One input of an action's form."""

    name: str
    label: str
    kind: str = "text"  # text, number, choice, yesno, textarea
    choices: tuple[str, ...] = ()
    required: bool = True


@dataclass(frozen=True)
class Action:
    """An act the console offers on a demand: its step, its payload and its form."""

    step: Step
    kind: type[c.Command]
    fields: tuple[Field, ...] = ()
    danger: bool = False

    @property
    def verb(self) -> str:
        """The step as it appears in the form's address: `follow-up`."""
        return self.step.value.replace("_", "-")


_REASON = Field("reason", "reason", "textarea")
_NOTE = Field("note", "note", "textarea", required=False)
_RATINGS = ("satisfied", "basically_satisfied", "unsatisfied")
ACTIONS = (
    Action(Step.CLAIM, c.Claim, (Field("member", "member"), Field("unit", "unit"))),
    Action(Step.HANDLE, c.Handle, (Field("hours", "hours", "number"), _NOTE)),
    Action(Step.FOLLOW_UP, c.FollowUp, (Field("resolved", "resolved", "yesno"), _NOTE)),
    Action(
        Step.EVALUATE,
        c.Evaluate,
        (
            Field("rating", "rating", "choice", _RATINGS),
            Field("comment", "comment", "textarea", required=False),
        ),
    ),
    Action(Step.ESCALATE, c.Escalate, (_REASON,)),
    Action(Step.TRANSFER, c.Transfer, (Field("to_unit", "to_unit"), _REASON)),
    Action(Step.EXTEND, c.Extend, (Field("extend_by", "extend_by"), _REASON)),
    Action(Step.DISPATCH, c.Dispatch, (Field("to", "to"), _NOTE)),
    Action(Step.REASSIGN, c.Reassign, (Field("member", "member"), Field("unit", "unit"), _REASON)),
    Action(
        Step.MERGE, c.Merge, (Field("into", "into"), Field("reason", "reason", "textarea", required=False))
    ),
    Action(Step.COMMEND, c.Commend, (_NOTE,)),
    Action(Step.SUPPLEMENT, c.Supplement, (Field("text", "text", "textarea"),)),
    Action(Step.RELEASE, c.Release, (_REASON,), danger=True),
    Action(Step.WITHDRAW, c.Withdraw, (_REASON,), danger=True),
)
BY_VERB = {action.verb: action for action in ACTIONS}
_MEMBERS_OWN = {"member", "unit"}
"""Fields a member never types: they act as themselves, in their own unit."""


@router.get("/demands/{demand_id}", response_class=HTMLResponse)
async def demand_page(request: Request, demand_id: str, who: Viewer, fresh: bool = False) -> Response:
    """The demand's page; `fresh` (after an action) asks its workflow rather than the index."""
    services = services_of(request)
    status = await services.status(who, demand_id, live=fresh)
    events = await timeline(services, who, demand_id)
    candidates = [a.step for a in ACTIONS if allows(status.state, a.step)]
    permitted = set(await services.permitted(who, demand_id, candidates, live=fresh)) if candidates else set()
    actions = [
        (a, [f for f in a.fields if not (who.role is Role.MEMBER and f.name in _MEMBERS_OWN)])
        for a in ACTIONS
        if a.step in permitted
    ]
    return page(
        request, "demand.html.j2", who, status=status, events=list(reversed(events)),
        actions=actions, alarm=status.next_alarm(), quoted=quote(demand_id),
    )  # fmt: skip


@router.post("/demands/{demand_id}/act/{verb}")
async def act(request: Request, demand_id: str, verb: str, who: Viewer) -> Response:
    """Do one act from its form; back to the demand's page with what happened, in one line."""
    services = services_of(request)
    form = await checked_form(request)
    back = RedirectResponse(f"/console/demands/{quote(demand_id)}?fresh=1", status_code=303)
    action = BY_VERB.get(verb)
    if action is None:
        return flash(back, False, f"no such action: {verb}")
    try:
        fields = _fields(action, form)
        command = await services.command_from(who, demand_id, action.kind, fields)
        if action.kind.update is None:
            await services.signal(who, demand_id, command)
        else:
            await services.command(who, demand_id, command)
    except ValidationError as error:
        return flash(back, False, field_errors(error))
    except Exception as error:
        status, message, _ = classify(error)
        if status >= 500:
            raise
        return flash(back, False, message)
    t = translator(lang_of(request))
    return flash(back, True, t("done") + t("step", action.step))


def _fields(action: Action, form: dict[str, str]) -> dict[str, Any]:
    """A form's values as the payload's fields (empty ones left out, so a missing one is named)."""
    from engine.durations import parse_duration

    fields: dict[str, Any] = {k: v for k, v in form.items() if v != ""}
    if action.step is Step.FOLLOW_UP and "resolved" in fields:
        fields["resolved"] = fields["resolved"] in ("1", "true", "yes", "on")
    if action.step is Step.EXTEND and "extend_by" in fields:
        try:
            fields["extra"] = parse_duration(fields.pop("extend_by"))
        except ValueError:
            fields["extra"] = "not a duration"  # named by the payload's own check
    fields.pop("extend_by", None)
    return fields
