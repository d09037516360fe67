"""Every object type of DESIGN section 3 reports its changes, links of every kind
(members, owners, manager) included."""

from __future__ import annotations

from typing import Any

from rewind_common.jobs.model import JobStatus
from rewind_common.registry import type_names
from tests.integration.differ.support import DiffHarness

METHODS = "/policies/authenticationMethodsPolicy/authenticationMethodConfigurations"


async def test_each_type_reports_what_changed(differ: DiffHarness) -> None:
    emulator = differ.emulator
    await emulator.generate()
    snapshot = await differ.snapshot()
    state = await emulator.state()
    types = state["types"]

    def first(type_name: str) -> dict[str, Any]:
        found: dict[str, Any] = types[type_name]["active"][0]
        return found

    user, group, app, sp = (
        first("user"),
        first("group"),
        first("application"),
        first("servicePrincipal"),
    )
    location, grant = first("namedLocation"), first("oAuth2PermissionGrant")
    organization = first("organization")
    auth_methods = first("authenticationMethodsPolicy")
    email = next(
        c for c in auth_methods["authenticationMethodConfigurations"] if c["id"].lower() == "email"
    )
    owner = types["user"]["active"][1]["id"]
    calls: list[tuple[str, str, Any]] = [
        ("PATCH", f"/users/{user['id']}", {"city": "Nowhere"}),
        ("PATCH", f"/groups/{group['id']}", {"description": "renamed"}),
        ("POST", f"/applications/{app['id']}/owners/$ref",
         {"@odata.id": f"https://graph.microsoft.com/v1.0/directoryObjects/{owner}"}),
        ("PATCH", f"/servicePrincipals/{sp['id']}", {"notes": "changed"}),
        ("PATCH", f"/identity/conditionalAccess/namedLocations/{location['id']}",
         {"@odata.type": location["@odata.type"], "displayName": "Renamed location"}),
        ("PATCH", f"/oauth2PermissionGrants/{grant['id']}", {"scope": "User.Read.All"}),
        ("PATCH", "/policies/authorizationPolicy",
         {"allowEmailVerifiedUsersToJoinOrganization": False}),
        ("PATCH", f"{METHODS}/{email['id']}",
         {"@odata.type": "#microsoft.graph.emailAuthenticationMethodConfiguration",
          "state": "disabled" if email.get("state") == "enabled" else "enabled"}),
        ("PATCH", f"/organization/{organization['id']}",
         {"technicalNotificationMails": ["soc@contoso.com"]}),
    ]  # fmt: skip
    for method, path, body in calls:
        await emulator.graph_call(method, path, body)

    report = await differ.diff(snapshot.id)

    assert report.job.status is JobStatus.COMPLETED, report.job.error
    changes = report.by_key()
    assert changes[("user", user["id"])].paths == ("city",)
    assert changes[("group", group["id"])].paths == ("description",)
    owners = changes[("application", app["id"])]
    assert owners.change.value == "linksChanged"
    assert owners.links["owners"].added == (owner,)
    assert changes[("servicePrincipal", sp["id"])].paths == ("notes",)
    assert changes[("namedLocation", location["id"])].paths == ("displayName",)
    assert changes[("oAuth2PermissionGrant", grant["id"])].paths == ("scope",)
    assert changes[("organization", organization["id"])].paths == ("technicalNotificationMails",)
    authorization = changes[("authorizationPolicy", "authorizationPolicy")]
    assert authorization.paths == ("allowEmailVerifiedUsersToJoinOrganization",)
    methods = changes[("authenticationMethodsPolicy", "authenticationMethodsPolicy")]
    assert methods.paths == ("authenticationMethodConfigurations",)
    assert len(report.changes) == len(calls)
    # The rogue-app and CA cases are in test_incident; every type is covered.
    covered = {c.type for c in report.changes} | {"appRoleAssignment", "conditionalAccessPolicy"}
    assert covered == set(type_names())
