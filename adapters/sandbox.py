"""The workflow sandbox MicroDemandWorkflow runs in: the worker's, and the replay tests'.

temporalio's sandbox enters itself by handing a string of code to `exec`: for every activation,
and three or four times for every payload in it (its serialization and storage contexts), and
`exec` compiles the string anew each time. On a busy worker that is a tenth to a sixth of the
process's CPU (docs/benchmarks.md, section 1). `CompiledSandboxRunner` gives the sandbox the same
code compiled once. Nothing else changes: the same sandbox, its restrictions, its determinism
checks and its module isolation; where temporalio's internals are not as expected, the stock
runner is used and only the saving is lost.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from functools import lru_cache
from types import CodeType
from typing import Any

from temporalio.worker import WorkflowRunner
from temporalio.worker._workflow_instance import WorkflowInstance, WorkflowInstanceDetails
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions, _runner

PASSTHROUGH = (
    "engine",
    "workflows.activities",
    "workflows.messages",
    "workflows.search",
    "pydantic",
    "structlog",
    "rich",
)
"""Modules that come into the sandbox from outside rather than being imported anew for each workflow.

The domain and the workflow's own helpers are deterministic, and coming in from outside, every
payload class is one class; logging goes through structlog, which may render with rich: both come
in from outside rather than being refused in it."""


@lru_cache(maxsize=64)
def compiled(code: str) -> CodeType:
    """`code` compiled once: the sandbox's entry snippets are a handful of constant strings."""
    return compile(code, "<workflow sandbox>", "exec")


_Instance: Any = getattr(_runner, "_Instance", None)
"""temporalio's sandboxed workflow instance (private: checked by `fits` before it is used)."""


def fits() -> bool:
    """Whether temporalio's sandbox instance is as `CompiledSandboxRunner` expects."""
    run_code = getattr(_Instance, "_run_code", None)
    if run_code is None:
        return False
    return list(inspect.signature(run_code).parameters)[:2] == ["self", "code"] and list(
        inspect.signature(_Instance.__init__).parameters
    ) == ["self", "instance_details", "runner_class", "restrictions"]


class _CompiledInstance(_Instance if fits() else object):  # type: ignore[misc]
    """The sandbox's workflow instance, entering the sandbox with compiled code."""

    def _run_code(self, code: str, **extra_globals: Any) -> None:
        super()._run_code(compiled(code), **extra_globals)


@dataclass(frozen=True)
class CompiledSandboxRunner(SandboxedWorkflowRunner):
    """temporalio's sandboxed runner, its entry code compiled once instead of at every call."""

    def create_instance(self, det: WorkflowInstanceDetails) -> WorkflowInstance:
        """A sandboxed instance that enters the sandbox with compiled code."""
        return _CompiledInstance(det, self.runner_class, self.restrictions)


def workflow_runner() -> WorkflowRunner:
    """The runner MicroDemandWorkflow runs in: the sandbox, with `PASSTHROUGH` passed through."""
    restrictions = SandboxRestrictions.default.with_passthrough_modules(*PASSTHROUGH)
    if fits():
        return CompiledSandboxRunner(restrictions=restrictions)
    return SandboxedWorkflowRunner(restrictions=restrictions)
