"""The refusable commands as workflow updates: each validated by the rules, then serialised and recorded.

A mixin of `MicroDemandWorkflow`, kept apart so the workflow module reads as its loop and timers.
Every validator asks `engine.rules.check` through `_check`; every handler goes through `_apply`,
which takes the lock, checks again and records. Adding a command adds one pair here.
"""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from engine.commands import (
        Claim,
        Command,
        Commend,
        Dispatch,
        Escalate,
        Evaluate,
        Extend,
        FollowUp,
        Handle,
        Reassign,
        Release,
        Transfer,
        Withdraw,
    )
    from engine.status import DemandStatus


class DemandUpdates:
    """Update handlers and validators of the MicroDemand workflow (merge lives with the workflow)."""

    async def _apply(self, command: Command) -> DemandStatus:
        raise NotImplementedError  # provided by the workflow

    def _check(self, command: Command) -> None:
        raise NotImplementedError  # provided by the workflow

    @workflow.update
    async def dispatch(self, cmd: Dispatch) -> DemandStatus:
        """The community offers the demand to a post, a group or a member."""
        return await self._apply(cmd)

    @dispatch.validator
    def _validate_dispatch(self, cmd: Dispatch) -> None:
        self._check(cmd)

    @workflow.update
    async def claim(self, cmd: Claim) -> DemandStatus:
        """A member and their unit take the demand."""
        return await self._apply(cmd)

    @claim.validator
    def _validate_claim(self, cmd: Claim) -> None:
        self._check(cmd)

    @workflow.update
    async def release(self, cmd: Release) -> DemandStatus:
        """The holder gives the demand back."""
        return await self._apply(cmd)

    @release.validator
    def _validate_release(self, cmd: Release) -> None:
        self._check(cmd)

    @workflow.update
    async def handle(self, cmd: Handle) -> DemandStatus:
        """The holder reports it done."""
        return await self._apply(cmd)

    @handle.validator
    def _validate_handle(self, cmd: Handle) -> None:
        self._check(cmd)

    @workflow.update
    async def follow_up(self, cmd: FollowUp) -> DemandStatus:
        """The community records whether it is really resolved; unresolved reopens it."""
        return await self._apply(cmd)

    @follow_up.validator
    def _validate_follow_up(self, cmd: FollowUp) -> None:
        self._check(cmd)

    @workflow.update
    async def evaluate(self, cmd: Evaluate) -> DemandStatus:
        """The resident's rating: a positive one closes, an unsatisfied one reopens."""
        return await self._apply(cmd)

    @evaluate.validator
    def _validate_evaluate(self, cmd: Evaluate) -> None:
        self._check(cmd)

    @workflow.update
    async def withdraw(self, cmd: Withdraw) -> DemandStatus:
        """The resident withdraws the demand."""
        return await self._apply(cmd)

    @withdraw.validator
    def _validate_withdraw(self, cmd: Withdraw) -> None:
        self._check(cmd)

    @workflow.update
    async def escalate(self, cmd: Escalate) -> DemandStatus:
        """An operator moves the demand one level up the ladder."""
        return await self._apply(cmd)

    @escalate.validator
    def _validate_escalate(self, cmd: Escalate) -> None:
        self._check(cmd)

    @workflow.update
    async def transfer(self, cmd: Transfer) -> DemandStatus:
        """An operator hands the demand to another unit."""
        return await self._apply(cmd)

    @transfer.validator
    def _validate_transfer(self, cmd: Transfer) -> None:
        self._check(cmd)

    @workflow.update
    async def reassign(self, cmd: Reassign) -> DemandStatus:
        """An operator gives the claimed demand to another member."""
        return await self._apply(cmd)

    @reassign.validator
    def _validate_reassign(self, cmd: Reassign) -> None:
        self._check(cmd)

    @workflow.update
    async def extend(self, cmd: Extend) -> DemandStatus:
        """An operator moves the running deadline later."""
        return await self._apply(cmd)

    @extend.validator
    def _validate_extend(self, cmd: Extend) -> None:
        self._check(cmd)

    @workflow.update
    async def commend(self, cmd: Commend) -> DemandStatus:
        """Praise for good work, which earns points."""
        return await self._apply(cmd)

    @commend.validator
    def _validate_commend(self, cmd: Commend) -> None:
        self._check(cmd)
