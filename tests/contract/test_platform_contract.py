"""Nothing a platform sends can wedge, forge or corrupt a demand: the contract as a foreign client meets it.

Every message is raw JSON (or worse) typed on the `temporal` command line; each case ends with the
demand healthy or cleanly rejected, nothing written to any other demand, no workflow task failed,
and (the last test) no resident's data in any log line.
"""

from __future__ import annotations

import concurrent.futures
import json
import time

import pytest
from platform_harness import RESIDENT, Platform, demand

pytestmark = [pytest.mark.integration, pytest.mark.devserver]


def collected(platform: Platform, **overrides: object) -> str:
    """A demand pushed properly and collected; its id."""
    external, demand_id = platform.new_id()
    platform.push(demand_id, json.dumps(demand(external, **overrides)))
    platform.eventually(demand_id, "collected")
    return demand_id


def healthy(platform: Platform, demand_id: str) -> None:
    """The demand still takes a command, and no workflow task ever failed."""
    claimed = platform.update(demand_id, "claim", '{"member": "wang", "unit": "Party branch 1"}')
    assert claimed.returncode == 0, claimed.stderr
    assert platform.status(demand_id)["state"] == "claimed"
    assert platform.task_failures(demand_id) == []


def test_a_push_with_no_payload_ends_rejected_and_says_why(platform: Platform) -> None:
    _, demand_id = platform.new_id()
    platform.push(demand_id)
    ended = platform.eventually(demand_id, "rejected")
    assert "submit takes one JSON object (Submission), not 0 payloads" in ended["rejection"]
    empty = "submit takes one JSON object (Submission), not 0 payloads"
    assert platform.rejections(demand_id, count=2) == [
        empty,
        f"no valid submission within 5 seconds (the last one: {empty})",
    ]
    assert platform.task_failures(demand_id) == []
    assert platform.events(demand_id) == []


def test_a_binary_payload_is_rejected_and_a_good_push_after_it_collects(platform: Platform) -> None:
    external, demand_id = platform.new_id()
    platform.push(demand_id, "bm90IGpzb24=", meta="encoding=binary/plain")
    [why] = platform.rejections(demand_id)
    assert why == "submit: the payload must be JSON (encoding json/plain), not binary/plain"
    platform.push(demand_id, json.dumps(demand(external)))
    platform.eventually(demand_id, "collected")
    healthy(platform, demand_id)


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"priority": "urgent"}, "priority: Input should be 'general', 'important' or 'major'"),
        ({"kind": 7}, "kind: Input should be 'wish' or 'appeal'"),
        ({"channel": None}, "channel: Field required"),
        ({"location": {"city": "Karamay"}}, "location.district: Field required"),
        ({"title": "x" * 1_000_000}, "title: String should have at most 200 characters"),
        (
            {"resident": {"name": "Li", "phone": "call me maybe"}},
            "resident.phone: Value error, not a phone number",
        ),
        ({"surprise": 1}, "surprise: Extra inputs are not permitted"),
    ],
)
def test_a_malformed_push_is_rejected_naming_the_field_and_the_workflow_ends_cleanly(
    platform: Platform, change: dict[str, object], named: str
) -> None:
    external, demand_id = platform.new_id()
    body = demand(external)
    for key, value in change.items():
        if value is None:
            body.pop(key)
        else:
            body[key] = value
    platform.push(demand_id, json.dumps(body))
    reasons = platform.rejections(demand_id)
    assert any(named in reason for reason in reasons), reasons
    assert platform.eventually(demand_id, "rejected")["state"] == "rejected"
    assert platform.task_failures(demand_id) == []
    assert platform.events(demand_id) == []


def test_a_bad_push_to_a_collected_demand_cannot_wedge_it(platform: Platform) -> None:
    demand_id = collected(platform)
    platform.signal(demand_id, "submit")  # no payload at all
    platform.signal(demand_id, "submit", '"just a string"')
    platform.signal(demand_id, "submit", "{}", "{}")  # two payloads
    assert len(platform.rejections(demand_id, count=3)) == 3
    healthy(platform, demand_id)


def test_a_payload_for_another_demand_is_rejected_and_writes_nothing_there(platform: Platform) -> None:
    other = collected(platform)
    _, demand_id = platform.new_id()
    stray = demand(other.removeprefix("demand-platform-"))
    platform.push(demand_id, json.dumps(stray))
    [why, *_] = platform.rejections(demand_id)
    assert why == f"submit: the payload is for {other}, not this demand"
    platform.eventually(demand_id, "rejected")
    assert platform.events(other) == ["Collected"]
    assert platform.events(demand_id) == []


def test_start_input_is_read_as_a_submission_and_can_never_forge_a_state_or_reach_another_demand(
    platform: Platform,
) -> None:
    victim = collected(platform)
    external, demand_id = platform.new_id()
    forged = json.dumps({"demand_id": victim, "state": "closed", "version": 1})  # a carried status, forged
    platform.push(demand_id, json.dumps(demand(external)), start_inputs=(forged,))
    status = platform.eventually(demand_id, "collected")
    assert status["version"] == 1
    assert platform.events(demand_id) == ["Collected"]
    assert platform.events(victim) == ["Collected"]  # nothing written into the other demand
    assert any("submit" in r or "start input" in r for r in platform.rejections(demand_id))
    healthy(platform, demand_id)
    healthy(platform, victim)  # and its owner's next command is taken, not lost


def test_a_platform_that_passes_the_demand_as_start_input_too_is_collected_once(platform: Platform) -> None:
    external, demand_id = platform.new_id()
    body = json.dumps(demand(external))
    platform.push(demand_id, body, start_inputs=(body,))
    platform.eventually(demand_id, "collected")
    assert platform.events(demand_id) == ["Collected"]
    assert platform.rejections(demand_id, timeout=2) == []


def test_a_forged_absorb_neither_wedges_the_demand_nor_copies_anyone_in(platform: Platform) -> None:
    original = collected(platform)
    bystander = collected(
        platform, resident={"name": "Qian Lei", "phone": "13700001111", "address": "Flat 3"}
    )
    platform.signal(
        original, "absorb", json.dumps({"by": "attacker", "duplicate_id": "demand-platform-nobody"})
    )
    platform.signal(original, "absorb", json.dumps({"by": "attacker", "duplicate_id": bystander}))
    healthy(platform, original)
    assert platform.events(original) == ["Collected", "Claimed"]
    assert not platform.status(original)["duplicates"]  # the Go CLI shows an empty list as null


def test_two_crossed_merges_leave_exactly_one_merged(platform: Platform) -> None:
    a, b = collected(platform), collected(platform)
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        results = list(
            pool.map(
                lambda pair: platform.update(pair[0], "merge", json.dumps({"by": "op", "into": pair[1]})),
                [(a, b), (b, a)],
            )
        )
    assert sorted(r.returncode == 0 for r in results) == [False, True]
    states = sorted(platform.status(d)["state"] for d in (a, b))
    assert states == ["collected", "merged"]
    assert sorted(platform.events(a) + platform.events(b)) == [
        "Collected", "Collected", "DuplicateAbsorbed", "Merged"
    ]  # fmt: skip


def test_a_command_on_a_closed_demand_is_a_refusal_naming_its_state(platform: Platform) -> None:
    demand_id = collected(platform)
    for name, body in [
        ("claim", {"member": "wang", "unit": "Party branch 1"}),
        ("handle", {"member": "wang", "hours": 1}),
        ("follow_up", {"worker": "zhao", "resolved": True}),
        ("evaluate", {"rating": "satisfied"}),
    ]:
        assert platform.update(demand_id, name, json.dumps(body)).returncode == 0
    refused = platform.update(demand_id, "claim", '{"member": "liu", "unit": "Branch 2"}')
    assert refused.returncode != 0
    assert f"demand {demand_id} is closed: cannot claim" in refused.stderr + refused.stdout
    assert platform.task_failures(demand_id) == []


def test_a_platform_finds_demands_by_their_search_attributes(platform: Platform) -> None:
    """`temporal workflow list --query` on the attributes docs/upstream.md names, as a platform would."""
    major = collected(platform, priority="major")
    general = collected(platform)
    assert platform.update(major, "claim", '{"member": "wang", "unit": "Party branch 1"}').returncode == 0

    def listed(query: str) -> set[str]:
        scoped = f'{query} AND TaskQueue="{platform.task_queue}"'
        out = platform.temporal("workflow", "list", "--query", scoped, "-o", "jsonl").stdout
        return {json.loads(line)["execution"]["workflowId"] for line in out.splitlines() if line.strip()}

    deadline = time.monotonic() + 30  # visibility follows a moment behind
    while listed('DemandState="claimed" AND DemandPriority="major"') != {major}:
        assert time.monotonic() < deadline, "the claimed major demand never became searchable"
        time.sleep(0.3)
    assert general in listed(
        'DemandState="collected" AND DemandCommunity="Xinhua" AND DemandLevel="community"'
    )
    assert major not in listed('DemandState="collected"')
    assert {major, general} <= listed('DemandStreet="Yingbin" AND DemandOverdue=false')


def test_update_payload_errors_name_the_field_and_unknown_commands_are_named(platform: Platform) -> None:
    demand_id = collected(platform)
    missing = platform.update(demand_id, "claim", '{"member": "wang"}')
    assert missing.returncode != 0
    assert "claim: unit: Field required" in missing.stderr + missing.stdout
    nothing = platform.update(demand_id, "claim")
    assert "claim takes one JSON object (Claim), not 0 payloads" in nothing.stderr + nothing.stdout
    unknown = platform.update(demand_id, "teleport", "{}")
    assert "no such command: teleport" in unknown.stderr + unknown.stdout
    healthy(platform, demand_id)


def test_an_amendment_before_the_claim_is_recorded_and_after_it_is_rejected_for_operators(
    platform: Platform,
) -> None:
    external, demand_id = platform.new_id()
    platform.push(demand_id, json.dumps(demand(external)))
    platform.eventually(demand_id, "collected")
    platform.push(demand_id, json.dumps(demand(external)))  # the same again: nothing changes
    platform.push(demand_id, json.dumps(demand(external, priority="major", title="No water for two days")))
    healthy(platform, demand_id)
    assert platform.events(demand_id) == ["Collected", "Amended", "Claimed"]
    assert platform.status(demand_id)["priority"] == "major"
    platform.push(demand_id, json.dumps(demand(external, title="Changed once more")))
    [why] = platform.rejections(demand_id)
    assert why == f"demand {demand_id} is claimed: cannot amend, only when collected or dispatched"


def test_supplements_withdrawals_and_evaluations_arrive_as_signals(platform: Platform) -> None:
    demand_id = collected(platform)
    platform.signal(
        demand_id, "supplement", '{"text": "It started on Monday", "attachments": ["photo-1.jpg"]}'
    )
    platform.signal(demand_id, "evaluation", '{"rating": "satisfied"}')  # too early: kept as a rejection
    platform.signal(demand_id, "withdrawal", '{"reason": "a neighbour fixed it"}')
    platform.eventually(demand_id, "withdrawn")
    assert platform.events(demand_id) == ["Collected", "Supplemented", "Withdrawn"]
    [why] = platform.rejections(demand_id)
    assert why.startswith(f"demand {demand_id} is collected: cannot evaluate")


def test_text_is_cleaned_at_the_edge(platform: Platform) -> None:
    demand_id = collected(platform, title="Lights\u0000 out\u001b[2J in\u202e stairwell\n3")
    assert platform.status(demand_id)["title"] == "Lights out[2J in stairwell 3"


def test_a_query_with_odd_arguments_fails_alone_and_the_demand_stays_well(platform: Platform) -> None:
    demand_id = collected(platform)
    platform.temporal(
        "workflow", "query", "--workflow-id", demand_id, "--type", "status", "--input", "42", check=False
    )
    platform.temporal("workflow", "query", "--workflow-id", demand_id, "--type", "nothing", check=False)
    healthy(platform, demand_id)


def test_another_workflow_type_on_the_task_queue_ends_at_once(platform: Platform) -> None:
    _, workflow_id = platform.new_id()
    platform.temporal(
        "workflow", "start", "--type", "SomethingElse", "--task-queue", platform.task_queue,
        "--workflow-id", workflow_id, "--input", '{"x": 1}',
    )  # fmt: skip
    assert platform.eventually(workflow_id, "rejected")["state"] == "rejected"
    assert platform.task_failures(workflow_id) == []


def test_zz_no_log_line_holds_a_residents_data(platform: Platform) -> None:
    """Runs last in this module: every case above pushed the same resident, good and bad."""
    logged = platform.log.read_text("utf-8", errors="replace")
    assert "recorded" in logged  # the worker did log, so the search below means something
    assert "rejected a message" in logged  # and so did the workflows, inside their sandbox
    for value in (*RESIDENT.values(), "Qian Lei", "13700001111"):
        assert value not in logged, f"{value!r} appears in the worker's log"


def test_temporal_sees_no_personal_data_from_microdemands_own_clients(platform: Platform) -> None:
    """Pushed through the CLI's client (the codec key), nothing of the resident is readable in Temporal."""
    import asyncio

    from engine.commands import Submission

    external, demand_id = platform.new_id()

    async def push() -> None:
        client = await platform.system.client()
        await client.submit(Submission.model_validate(demand(external)))

    asyncio.run(push())
    platform.eventually(demand_id, "collected")
    shown = platform.temporal("workflow", "show", "--workflow-id", demand_id, "-o", "json").stdout
    described = platform.temporal("workflow", "describe", "--workflow-id", demand_id, "-o", "json").stdout
    for value in RESIDENT.values():
        assert value not in shown + described, f"{value!r} is readable in Temporal without the key"
    assert "binary/encrypted" in shown or "YmluYXJ5L2VuY3J5cHRlZA" in shown  # sealed, not dropped
    healthy(platform, demand_id)
