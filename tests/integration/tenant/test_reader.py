"""TenantReader against the Graph emulator in this process: every type, the recycle
bin, links (a listing read in parts), reads by id, delta rounds and 403s."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import pytest

from rewind_common.registry import ALL_TYPES, get_type
from rewind_common.tenant import DeltaExpired, TenantReader, TypeNotReadable, plans
from rewind_common.tenant.plans import EXPAND_ITEMS
from rewind_common.tenant.reader import PARTS_PER_ROUND
from tests.integration.snapshotter.support import assert_same_body, comparable, expected_links
from tests.integration.tenant.emulated import EmulatedTenant


@pytest.fixture
async def tenant() -> AsyncIterator[EmulatedTenant]:
    emulated = EmulatedTenant()
    await emulated.generate(users=60, groups=6, membersPerGroup=30)
    try:
        yield emulated
    finally:
        await emulated.close()


async def _everything(reader: TenantReader, type_name: str) -> dict[str, Any]:
    found: dict[str, Any] = {}
    async for page in reader.pages(type_name):
        for state in page.states:
            assert state.object_id not in found
            found[state.object_id] = state
    return found


async def test_every_type_reads_as_the_emulator_holds_it(tenant: EmulatedTenant) -> None:
    users = (await tenant.state())["types"]["user"]["active"]
    await tenant.graph_call("DELETE", f"/users/{users[0]['id']}")
    state = await tenant.state()
    async with tenant.graph() as graph:
        reader = TenantReader(graph)
        for object_type in ALL_TYPES:
            found = await _everything(reader, object_type.name)
            groups = state["types"][object_type.name]
            assert len(found) == len(groups["active"]) + len(groups["deleted"])
            for deleted, bodies in ((False, groups["active"]), (True, groups["deleted"])):
                for body in bodies:
                    got = found[body["id"]]
                    assert got.deleted is deleted
                    want = comparable(object_type.name, body)
                    if object_type.select:
                        want = {k: v for k, v in want.items() if k in object_type.select}
                    assert_same_body(
                        object_type.name,
                        body["id"],
                        comparable(object_type.name, got.as_returned),
                        want,
                    )
                    if not deleted:
                        links = expected_links(state, object_type.name, body["id"])
                        assert dict(got.links) == links, (object_type.name, body["id"])


async def test_links_cut_at_twenty_by_expand_are_read_in_full(tenant: EmulatedTenant) -> None:
    state = await tenant.state()
    big = [g for g, links in state["links"]["group"].items() if len(links["members"]) > 20]
    assert big, "the generated tenant has groups of more than 20 members"
    async with tenant.graph() as graph:
        groups = await _everything(TenantReader(graph), "group")
    for group_id in big:
        members = groups[group_id].links["members"]
        assert len(members) > EXPAND_ITEMS
        assert members == tuple(sorted(state["links"]["group"][group_id]["members"]))


async def test_objects_are_read_by_id_live_or_deleted(tenant: EmulatedTenant) -> None:
    state = await tenant.state()
    users = [u["id"] for u in state["types"]["user"]["active"][:5]]
    await tenant.graph_call("DELETE", f"/users/{users[0]}")
    policies = [p["id"] for p in state["types"]["conditionalAccessPolicy"]["active"][:2]]
    await tenant.graph_call("DELETE", f"/identity/conditionalAccess/policies/{policies[0]}")
    assignments = state["types"]["appRoleAssignment"]["active"]
    async with tenant.graph() as graph:
        reader = TenantReader(graph)
        found = await reader.get("user", [*users, "00000000-0000-0000-0000-000000000001"])
        assert set(found) == set(users)
        assert found[users[0]].deleted
        assert found[users[1]].links == expected_links(state, "user", users[1])
        ca = await reader.get("conditionalAccessPolicy", policies)
        assert ca[policies[0]].deleted
        assert not ca[policies[1]].deleted
        parents = {a["id"]: a["resourceId"] for a in assignments[:2]}
        by_parent = await reader.get("appRoleAssignment", list(parents), parents=parents)
        assert set(by_parent) == set(parents)
        unplaced = await reader.get("appRoleAssignment", [assignments[0]["id"]])
        assert set(unplaced) == {assignments[0]["id"]}
        singleton = await reader.get("authorizationPolicy", ["authorizationPolicy"])
        assert list(singleton) == ["authorizationPolicy"]


async def test_an_assignment_no_parent_is_known_for_is_read_under_its_principal(
    tenant: EmulatedTenant,
) -> None:
    """Whatever the kind of principal, and without listing any service principal: a
    few requests per id, not one per service principal in the tenant."""
    state = await tenant.state()
    by_kind: dict[str, dict[str, Any]] = {}
    for assignment in state["types"]["appRoleAssignment"]["active"]:
        by_kind.setdefault(assignment["principalType"], assignment)
    if "Group" not in by_kind:
        group = state["types"]["group"]["active"][0]["id"]
        model = next(iter(by_kind.values()))
        by_kind["Group"] = await tenant.graph_call(
            "POST",
            f"/groups/{group}/appRoleAssignments",
            {
                "principalId": group,
                "resourceId": model["resourceId"],
                "appRoleId": model["appRoleId"],
            },
        )
    assert set(by_kind) == {"User", "Group", "ServicePrincipal"}
    wanted = [a["id"] for a in by_kind.values()]
    # the principal named by the id exists but holds no such assignment
    stranger = wanted[0][:22] + "A" * (len(wanted[0]) - 22)
    async with tenant.graph() as graph:
        await tenant.control("DELETE", "/_emulator/stats")
        found = await TenantReader(graph).get("appRoleAssignment", [*wanted, stranger])
        stats = await tenant.control("GET", "/_emulator/stats")

    assert set(found) == set(wanted)
    for assignment in by_kind.values():
        assert found[assignment["id"]].body["resourceId"] == assignment["resourceId"]
    assert "GET /servicePrincipals" not in stats["byRoute"]
    assert stats["requests"] <= 3 * len(wanted) + 1 + 1


async def test_delta_rounds_report_changes_removals_and_links(tenant: EmulatedTenant) -> None:
    state = await tenant.state()
    users = [u["id"] for u in state["types"]["user"]["active"]]
    groups = [g["id"] for g in state["types"]["group"]["active"]]
    async with tenant.graph() as graph:
        reader = TenantReader(graph)
        first = [page async for page in reader.delta("user")]
        assert sum(len(p.items) for p in first) == len(users)
        assert first[-1].delta_link is not None
        assert all(p.next_link for p in first[:-1])
        managers = {i.object_id: i.link_ops.get("manager") for p in first for i in p.items}
        with_manager = [u for u, m in state["links"]["user"].items() if m["manager"]]
        assert managers[with_manager[0]] is not None
        group_round = [page async for page in reader.delta("group")]
        latest = await reader.latest_delta_link("user")

        await tenant.graph_call("PATCH", f"/users/{users[1]}", {"jobTitle": "Changed"})
        await tenant.graph_call("DELETE", f"/users/{users[2]}")
        await tenant.graph_call("DELETE", f"/users/{users[3]}")
        await tenant.graph_call("DELETE", f"/directory/deletedItems/{users[3]}")
        current = set(state["links"]["group"][groups[0]]["members"])
        joiner = next(u for u in users[4:] if u not in current)
        member = f"https://graph.microsoft.com/v1.0/directoryObjects/{joiner}"
        await tenant.graph_call("POST", f"/groups/{groups[0]}/members/$ref", {"@odata.id": member})

        changes = [i async for p in reader.delta("user", first[-1].delta_link) for i in p.items]
        by_id = {item.object_id: item for item in changes}
        changed = by_id[users[1]].state
        assert changed is not None
        assert changed.body["jobTitle"] == "Changed"
        assert by_id[users[2]].removed == "changed"
        assert by_id[users[3]].removed == "deleted"
        since_latest = [i.object_id async for p in reader.delta("user", latest) for i in p.items]
        assert set(since_latest) == set(by_id)
        group_changes = [
            i async for p in reader.delta("group", group_round[-1].delta_link) for i in p.items
        ]
        ops = {i.object_id: i.link_ops for i in group_changes}
        assert joiner in ops[groups[0]]["members"].added


async def test_an_expired_delta_link_says_so(tenant: EmulatedTenant) -> None:
    async with tenant.graph() as graph:
        reader = TenantReader(graph)
        link = [page async for page in reader.delta("group")][-1].delta_link
        await tenant.control("POST", "/_emulator/reset")
        with pytest.raises(DeltaExpired) as raised:
            async for _ in reader.delta("group", link):
                pass
    assert raised.value.type_name == "group"


@pytest.mark.parametrize("type_name", ["user", "conditionalAccessPolicy", "appRoleAssignment"])
async def test_a_type_the_credentials_may_not_read_names_itself(
    tenant: EmulatedTenant, type_name: str
) -> None:
    object_type = get_type(type_name)
    path = object_type.path.replace("{parentId}", "[^/]+")
    await tenant.fault("GET", path + "$", 403)
    async with tenant.graph() as graph:
        reader = TenantReader(graph)
        with pytest.raises(TypeNotReadable) as raised:
            await _everything(reader, type_name)
    assert raised.value.type_name == type_name
    assert raised.value.cause.status == 403


async def test_service_principal_owners_are_read_in_parts_that_resume_where_they_stopped(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(plans, "EXPAND_PAGE", 2)  # several pages in every part
    tenant = EmulatedTenant()
    try:
        await tenant.generate(applications=40, servicePrincipals=60)
        state = await tenant.state()
        principals = [sp["id"] for sp in state["types"]["servicePrincipal"]["active"]]
        owners = {i: expected_links(state, "servicePrincipal", i)["owners"] for i in principals}
        assert sum(1 for ids in owners.values() if ids) > 10
        read: dict[str, tuple[str, ...]] = {}
        stopped_at: Any = None
        async with tenant.graph() as graph:
            listing = TenantReader(graph).link_pages("servicePrincipal", "owners")
            async with contextlib.aclosing(listing) as pages:
                async for number, (targets, position) in aenumerate(pages):
                    read.update({i: tuple(sorted(ids)) for i, ids in targets.items()})
                    stopped_at = position
                    if number == 6:
                        break
            # stopping the read stopped every part's reading
            assert [t for t in asyncio.all_tasks() if t is not asyncio.current_task()] == []
        assert isinstance(stopped_at, dict)
        assert 0 < len(stopped_at["parts"]) <= len(plans.list_parts("servicePrincipal"))
        ended_at: Any = stopped_at
        async with tenant.graph() as graph:  # as the job's next step would
            resumed = TenantReader(graph).link_pages("servicePrincipal", "owners", stopped_at)
            async with contextlib.aclosing(resumed) as pages:
                async for targets, position in pages:
                    for principal, ids in targets.items():
                        assert principal not in read, "read twice"
                        read[principal] = tuple(sorted(ids))
                    ended_at = position
        assert ended_at is None
        assert read == owners
    finally:
        await tenant.close()


async def aenumerate(items: AsyncIterator[Any]) -> AsyncIterator[tuple[int, Any]]:
    number = 0
    async for item in items:
        yield number, item
        number += 1


async def test_each_round_of_the_parts_pages_is_one_batch(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(plans, "EXPAND_PAGE", 2)
    tenant = EmulatedTenant()
    try:
        await tenant.generate(applications=20, servicePrincipals=48)
        principals = (await tenant.state())["types"]["servicePrincipal"]["active"]
        per_part: dict[str, int] = {}
        for principal in principals:
            digit = principal["appId"][0].lower()
            per_part[digit] = per_part.get(digit, 0) + 1
        # parts' pages go out PARTS_PER_ROUND at a time, a part staying until it ends
        pages_left = {digit: -(-count // 2) for digit, count in sorted(per_part.items())}
        rounds = 0
        while pages_left:
            rounds += 1
            for digit in list(pages_left)[:PARTS_PER_ROUND]:
                pages_left[digit] -= 1
                if not pages_left[digit]:
                    del pages_left[digit]
        await tenant.control("DELETE", "/_emulator/stats")
        read: set[str] = set()
        async with tenant.graph() as graph:
            async for targets, _ in TenantReader(graph).link_pages("servicePrincipal", "owners"):
                read.update(targets)
        stats = await tenant.control("GET", "/_emulator/stats")
        assert read == {principal["id"] for principal in principals}
        # a round trip per round, not per page of each part (owner sets cut at 20 aside)
        assert stats["byRoute"]["POST /$batch"] <= rounds + 1
        assert stats["byRoute"]["GET /servicePrincipals"] >= len(principals) // 2
    finally:
        await tenant.close()
