"""The application layer: who is asking, whether they may, and doing it for them.

The CLI and the HTTP API are thin callers of this: each authenticates someone into an `Identity`
(a bearer token), then asks here. Every rule of who may do what is `engine.access.check`; this
module finds what the rule needs (the demand's place, holders, resident), stamps a command with
who sends it (the `by` it records, and a signed credential the store verifies as the event's
actor), records each reveal of a resident's data, and limits listings to the asker's places.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from engine.access import Act, DemandSubject, Forbidden, Identity, Role, check, places
from engine.credentials import sign
from engine.lifecycle import Step

if TYPE_CHECKING:
    from temporalio.api.common.v1 import Payload

    from adapters.bootstrap import System
    from adapters.demands_client import DemandsClient
    from engine.commands import Command, Submission
    from engine.directory import Directory
    from engine.scope import Scope
    from engine.status import DemandStatus
    from engine.vocabulary import AccountKind
    from projections.points.view import PointsView

__all__ = ["Forbidden", "Services", "UnknownAccountError"]

_STAMPED = ("by", "worker")
"""Fields of a command that say who did it: always the authenticated identity's name."""


class UnknownAccountError(LookupError):
    """No points were ever earned by this account, nor redeemed from it."""


class Services:
    """Use cases of microdemand for an authenticated identity, built on one System."""

    def __init__(self, system: System) -> None:
        self.system = system
        self._client: DemandsClient | None = None
        self._held: Directory | None = None
        self._holding = threading.Lock()

    def hold(self) -> None:
        """Keep the directory open across calls until `close` (a server asks it on every request;
        the CLI asks once per process and needs nothing held)."""
        with self._holding:
            if self._held is None:
                from engine.directory import Directory

                self._held = Directory(self.system.directory_env())

    def close(self) -> None:
        """Close what `hold` kept open."""
        with self._holding:
            held, self._held = self._held, None
        if held is not None:
            held.close()

    @contextmanager
    def _directory(self) -> Iterator[Directory]:
        if self._held is not None:
            yield self._held
            return
        with self.system.directory() as directory:
            yield directory

    # ---- who is asking --------------------------------------------------------------------------

    def authenticate(self, token: str) -> Identity:
        """The identity a bearer token stands for (UnauthenticatedError if none)."""
        with self._directory() as directory:
            return directory.authenticate(token)

    async def client(self) -> DemandsClient:
        """The demands' Temporal client, connected once."""
        if self._client is None:
            self._client = await self.system.client()
        return self._client

    # ---- may they? --------------------------------------------------------------------------------

    def places(self, identity: Identity, asked: Scope | None = None) -> tuple[Scope, ...]:
        """What a listing or figure for `identity` is limited to (engine.access.places)."""
        return places(identity, asked)

    def listing(self, identity: Identity, act: Act, asked: Scope | None = None) -> tuple[Scope, ...]:
        """The places a listing of many demands may show `identity`; Forbidden if they may not list.

        A resident reads their own demands one at a time: a list would show everyone's.
        """
        check(identity, act)
        if identity.role is Role.RESIDENT:
            raise Forbidden(f"{identity} may read their own demands one at a time, not list demands")
        return places(identity, asked)

    def known_account(self, ledger: PointsView, kind: AccountKind, name: str) -> None:
        """UnknownAccountError for a name the points ledger and the time bank have never heard of."""
        from engine.vocabulary import AccountKind

        if ledger.known(kind, name):
            return
        if kind is AccountKind.MEMBER:
            with self.system.time_bank(ledger) as bank:
                if bank.redemptions(name):
                    return
        what = "unit" if kind is AccountKind.UNIT else "member"
        why = "no demand has earned it points" if kind is AccountKind.UNIT else "no points earned or redeemed"
        raise UnknownAccountError(f"unknown {what}: {name} ({why})")

    def allow(self, identity: Identity, act: Step | Act, *, account: str | None = None) -> None:
        """Forbidden unless `identity` may do `act` at all (or for `account`)."""
        check(identity, act, account=account)

    async def allow_on(self, identity: Identity, act: Step | Act, demand_id: str) -> None:
        """Forbidden unless `identity` may do `act` on this demand (its place, its resident)."""
        check(identity, act)  # the role may do it at all: refuse before looking the demand up
        if identity.role is Role.ADMINISTRATOR:
            return
        residents = identity.role is Role.RESIDENT
        try:
            check(identity, act, demand=await self.subject(demand_id, residents=residents))
        except Forbidden:
            if identity.role is not Role.MEMBER:
                raise
            # the index follows a moment behind: a claim just made may not show there yet
            check(identity, act, demand=await self.subject(demand_id, live=True))

    async def permitted(
        self, identity: Identity, demand_id: str, steps: Iterable[Step], *, live: bool = False
    ) -> list[Step]:
        """Which of `steps` `identity` may do on this demand (the console offers only those);
        `live` asks its workflow (just after an action, before the index has caught up)."""
        subject = await self.subject(demand_id, live=live, residents=identity.role is Role.RESIDENT)
        allowed = []
        for step in steps:
            try:
                check(identity, step, demand=subject)
            except Forbidden:
                continue
            allowed.append(step)
        return allowed

    async def subject(self, demand_id: str, *, live: bool = False, residents: bool = False) -> DemandSubject:
        """What the rules need of a demand: from the index (unless `live`), or its workflow, or the
        store. Off the index its reporters are read from the store only if asked (`residents`)."""
        row = None if live else await asyncio.to_thread(self._indexed, demand_id)
        if row is not None:
            return row
        from engine.application import DemandNotFoundError  # not imported for an indexed answer

        try:
            status = await (await self.client()).status(demand_id)
        except DemandNotFoundError:
            status = await asyncio.to_thread(self._stored, demand_id)  # DemandNotFoundError if never
        holders = status.claimant.members if status.claimant else ()
        reporters = await asyncio.to_thread(self._reporters, demand_id) if residents else frozenset()
        return DemandSubject(
            demand_id=demand_id, location=status.location, holders=holders, residents=reporters
        )

    def _indexed(self, demand_id: str) -> DemandSubject | None:
        from engine.values import Location

        with self.system.index_view() as index:
            found = index.parties(demand_id)
        if found is None:
            return None
        row, holders, residents = found
        where = Location(
            city=row.city, district=row.district, street=row.street, community=row.community, grid=row.grid
        )
        return DemandSubject(
            demand_id=demand_id,
            location=where,
            holders=holders,
            residents=residents,
        )

    def _reporters(self, demand_id: str) -> frozenset[str]:
        """The keyed hashes of the demand's reporters, from the store (none if it was never collected)."""
        from engine.application import DemandNotFoundError

        lookup = self.system.resident_lookup
        with self.system.store() as store:
            try:
                reporters = store.reporters(demand_id)
            except DemandNotFoundError:
                return frozenset()
        return frozenset(key for resident in reporters for key in lookup.keys(resident))

    def _stored(self, demand_id: str) -> DemandStatus:
        with self.system.store() as store:
            return store.status(demand_id)

    # ---- doing it -------------------------------------------------------------------------------

    def stamped(self, identity: Identity, demand_id: str, command: Command) -> Command:
        """The command as `identity` sends it: who did it is who they are, signed for the store.

        A member claims, releases and handles as themselves (in their own unit); anyone else's
        `by` (or a follow-up's `worker`) is their own name, whatever was typed.
        """
        changes: dict[str, Any] = {
            name: identity.name for name in _STAMPED if name in type(command).model_fields
        }
        if identity.role is Role.MEMBER and "member" in type(command).model_fields:
            changes["member"] = identity.name
            if "unit" in type(command).model_fields and identity.unit:
                changes["unit"] = identity.unit
        changes["actor"] = sign(
            self.system.keys.actor, identity.name, identity.role.value, demand_id, command.step
        )
        return type(command).model_validate({**command.model_dump(), **changes})

    async def command_from(
        self, identity: Identity, demand_id: str, kind: type[Command], fields: dict[str, Any]
    ) -> Command:
        """A command of `kind` from what a caller sent, who-did-it filled in as `identity` (the HTTP
        API's and the console's bodies leave it out): `by` and a follow-up's `worker` are their own
        name, a member claims as themselves, and a handle reports for the demand's holder.
        ValidationError names each bad field."""
        own = {name: identity.name for name in _STAMPED if name in kind.model_fields}
        if identity.role is Role.MEMBER and "member" in kind.model_fields:
            own["member"] = identity.name
            if "unit" in kind.model_fields and identity.unit:
                own["unit"] = identity.unit
        elif "member" in kind.model_fields and "unit" not in kind.model_fields and not fields.get("member"):
            holders = (await self.subject(demand_id)).holders  # a handle or release: the holder's
            own["member"] = holders[0] if holders else "-"
        return kind.model_validate({**fields, **own})

    def allow_push(self, identity: Identity, submissions: Iterable[Submission]) -> None:
        """Forbidden unless `identity` may push every one of them (an operator: each inside their scope)."""
        for submission in submissions:
            check(identity, Step.COLLECT, demand=DemandSubject(submission.demand_id, submission.location))

    async def push(self, identity: Identity, submissions: Iterable[Submission]) -> list[str]:
        """Push demands as the platform does (signal-with-start); an operator only inside their scope."""
        wanted = list(submissions)
        self.allow_push(identity, wanted)
        pushed = []
        client = await self.client()
        for submission in wanted:
            stamped = self.stamped(identity, submission.demand_id, submission)
            pushed.append(await client.submit(stamped))  # type: ignore[arg-type]
        return pushed

    async def command(self, identity: Identity, demand_id: str, command: Command) -> DemandStatus:
        """Send one command on a demand for `identity`, if they may; a demand whose workflow
        Temporal no longer keeps is answered from the store ("its loop has ended")."""
        from adapters.demands_client import LoopEndedError
        from engine.application import DemandNotFoundError

        await self.allow_on(identity, command.step, demand_id)
        if command.step is Step.MERGE:
            await self.allow_on(identity, Step.MERGE, str(command.into))  # type: ignore[attr-defined]
        try:
            return await (await self.client()).command(demand_id, self.stamped(identity, demand_id, command))
        except DemandNotFoundError:  # Temporal forgot it; the store says whether it ever was
            stored = await asyncio.to_thread(self._stored, demand_id)
            raise LoopEndedError(
                f"demand {demand_id} is {stored.state.value}: cannot {command.verb}, its loop has ended"
            ) from None

    async def status(self, identity: Identity, demand_id: str, *, live: bool = False) -> DemandStatus:
        """A demand's standing: from the demand index (or, `live` or not indexed yet, its workflow;
        once Temporal no longer keeps it, the store)."""
        await self.allow_on(identity, Act.READ, demand_id)
        if not live:
            indexed = await asyncio.to_thread(self._indexed_status, demand_id)
            if indexed is not None:
                return indexed
        from engine.application import DemandNotFoundError  # not imported for an indexed answer

        try:
            return await (await self.client()).status(demand_id)
        except DemandNotFoundError:
            return await asyncio.to_thread(self._stored, demand_id)

    def _indexed_status(self, demand_id: str) -> DemandStatus | None:
        with self.system.index_view() as index:
            row = index.demand(demand_id)
        return row.status() if row is not None else None

    async def command_many(
        self, identity: Identity, demand_ids: Iterable[str], command: Command, **options: Any
    ) -> dict[str, str]:
        """Send one command to many demands; each refused one (or forbidden) says why, the rest go."""
        allowed: list[str] = []
        outcomes: dict[str, str] = {}
        on_done = options.get("on_done")
        for demand_id in dict.fromkeys(demand_ids):
            try:
                await self.allow_on(identity, command.step, demand_id)
                allowed.append(demand_id)
            except Forbidden as refusal:
                outcomes[demand_id] = str(refusal)
                if on_done is not None:
                    on_done(demand_id, outcomes[demand_id])
        client = await self.client()
        for demand_id in allowed:  # each signed for its own demand
            outcome = await client.command_many(
                [demand_id], self.stamped(identity, demand_id, command), **options
            )
            outcomes.update(outcome)
        return outcomes

    async def signal(self, identity: Identity, demand_id: str, command: Command) -> None:
        """Send a command the workflow takes by signal (a resident's supplement, say), if they may."""
        await self.allow_on(identity, command.step, demand_id)
        await (await self.client()).signal(demand_id, self.stamped(identity, demand_id, command))

    async def reveal(self, identity: Identity, demand_id: str, why: str) -> None:
        """May `identity` see this demand's residents' data? If so, the reveal is recorded first."""
        if not why.strip():
            raise Forbidden("say why residents' personal data is needed: every reveal is recorded")
        await self.allow_on(identity, Act.REVEAL, demand_id)
        await asyncio.to_thread(self._record_reveal, identity, demand_id, why.strip())

    async def reveal_many(self, identity: Identity, what: str, why: str) -> None:
        """May `identity` see residents' data across many demands (an export)? Recorded first if so."""
        if not why.strip():
            raise Forbidden("say why residents' personal data is needed: every reveal is recorded")
        check(identity, Act.REVEAL)
        if identity.role is Role.OPERATOR:
            raise Forbidden(f"{identity} may reveal residents' data one demand at a time, not in an export")
        await asyncio.to_thread(self._record_reveal, identity, what, why.strip())

    async def open_payloads(
        self, identity: Identity, namespace: str, payloads: Sequence[Payload]
    ) -> list[Payload]:
        """Decode Temporal payloads for `identity` (the Web UI's codec endpoint), if they may see
        residents' data; an operator's only for demands inside their scope (the others stay sealed).
        Each call that opens a resident's payload is recorded as a disclosure."""
        import json

        from adapters.codec import ENCODING
        from engine.values import Location

        check(identity, Act.REVEAL)
        codec = self.system.payload_codec()
        sealed = [p.metadata.get("encoding") == ENCODING for p in payloads]
        opened = await codec.decode(payloads)
        if identity.role is Role.OPERATOR and not identity.scope.everywhere:
            for n, payload in enumerate(opened):
                if not sealed[n]:
                    continue
                try:
                    where = Location.model_validate(json.loads(payload.data).get("location"))
                except (ValueError, TypeError, AttributeError):
                    where = None
                if where is None or not identity.scope.contains(where):
                    opened[n], sealed[n] = payloads[n], False  # outside their places: left as it was
        count = sum(1 for n, was in enumerate(sealed) if was and opened[n] is not payloads[n])
        if count:
            why = f"opened {count} payload(s) for Temporal's Web UI"
            await asyncio.to_thread(self._record_reveal, identity, f"codec:{namespace}", why)
        return opened

    def _record_reveal(self, identity: Identity, demand_id: str, why: str) -> None:
        with self._directory() as directory:
            directory.record_disclosure(identity, demand_id, why)
