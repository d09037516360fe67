"""``make demo``: a backup, an identity incident, a difference report and a recovery,
played against the local stack and shown as an administrator would see it.

The incident is the one Rewind exists for: an attacker (or a bad automation) strips the
emergency-access exclusions from a Conditional Access policy, overwrites users, deletes
a Microsoft 365 group and a security group a policy relies on, redirects an app's sign-in
replies, and plants a rogue app with its own permission. Rewind reports exactly that and
puts the tenant back, with every action accounted for.

Run after ``make up`` (``make demo`` does both); ``--api-url``/``--emulator-url``/
``--token-file`` point it at another stack (the tests use this).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console
from rich.rule import Rule

from devstack.stack import console_script

console = Console(highlight=False)
EVIL_REDIRECT = "https://login.contoso-support.net/oauth/callback"
USERS_OVERWRITTEN = 12


@dataclass
class Demo:
    api_url: str
    emulator_url: str
    tenant_id: str
    token: str

    def __post_init__(self) -> None:
        self.graph = httpx.Client(base_url=f"{self.emulator_url}/v1.0", timeout=60)
        self.emulator = httpx.Client(base_url=self.emulator_url, timeout=60)

    # -- helpers -----------------------------------------------------------------------

    def rewind(self, *args: str) -> str:
        """Run the ``rewind`` CLI as a user would, showing its output; returns it."""
        console.print(f"[bold cyan]$ rewind {' '.join(args)}[/]")
        env = {
            **os.environ,
            "REWIND_API_URL": self.api_url,
            "REWIND_TOKEN": self.token,
            "REWIND_TENANT": self.tenant_id,
            "COLUMNS": str(max(console.width, 120)),
        }
        result = subprocess.run(
            [console_script("rewind"), *args],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            check=False,
            timeout=600,
        )
        output = result.stdout
        # already laid out by the CLI for this width: written as is, not wrapped again
        sys.stdout.write(output if output.endswith("\n") else output + "\n")
        sys.stdout.flush()
        if result.returncode != 0:
            raise SystemExit(f"rewind {' '.join(args)} failed (exit {result.returncode})")
        return output

    def rewind_json(self, *args: str) -> Any:
        env = {
            **os.environ,
            "REWIND_API_URL": self.api_url,
            "REWIND_TOKEN": self.token,
            "REWIND_TENANT": self.tenant_id,
        }
        result = subprocess.run(
            [console_script("rewind"), *args, "--json"],
            env=env,
            capture_output=True,
            text=True,
            check=False,
            timeout=600,
        )
        if result.returncode != 0:
            raise SystemExit(f"rewind {' '.join(args)} failed: {result.stderr}")
        return json.loads(result.stdout)

    def state(self) -> dict[str, Any]:
        state: dict[str, Any] = self.emulator.get("/_emulator/state").json()
        return state

    def call(self, method: str, path: str, body: Any = None) -> Any:
        response = self.graph.request(method, path, json=body)
        if response.status_code >= 400:
            raise SystemExit(f"Graph {method} {path}: {response.status_code} {response.text}")
        return response.json() if response.content else None

    def step(self, text: str) -> None:
        console.print(f"  [red]✗[/] {text}")

    # -- the story ---------------------------------------------------------------------

    def backup(self) -> str:
        console.print(Rule("1. Backup"))
        console.print("A platform engineer takes an on-demand backup before a change window.")
        self.rewind("snapshot", "create", "--wait")
        snapshots = self.rewind_json("snapshot", "list")
        return str(snapshots["items"][0]["id"])

    def incident(self) -> dict[str, Any]:
        console.print(Rule("2. Incident"))
        console.print("A compromised admin account goes to work on the tenant:")
        state = self.state()
        policies = state["types"]["conditionalAccessPolicy"]["active"]
        policy = next(
            p
            for p in policies
            if p["state"] == "enabled" and p["conditions"]["users"].get("excludeUsers")
        )
        users_condition = dict(policy["conditions"]["users"])
        users_condition.update(excludeUsers=[], excludeGroups=[])
        self.call(
            "PATCH",
            f"/identity/conditionalAccess/policies/{policy['id']}",
            {"conditions": {"users": users_condition}},
        )
        self.step(f"Conditional Access policy '{policy['displayName']}' lost its exclusions")

        users = [
            u
            for u in state["types"]["user"]["active"]
            if not u["displayName"].startswith("Emergency")
        ][:USERS_OVERWRITTEN]
        for user in users:
            self.call(
                "PATCH",
                f"/users/{user['id']}",
                {"department": "Unassigned", "jobTitle": "Contractor", "officeLocation": None},
            )
        self.step(f"{len(users)} users overwritten (department, job title, office)")

        groups = state["types"]["group"]["active"]
        unified = next(g for g in groups if "Unified" in g["groupTypes"])
        referenced = {
            gid for p in policies for gid in p["conditions"]["users"].get("includeGroups") or []
        }
        security = next(
            (g for g in groups if "Unified" not in g["groupTypes"] and g["id"] in referenced),
            next(g for g in groups if "Unified" not in g["groupTypes"]),
        )
        self.call("DELETE", f"/groups/{unified['id']}")
        self.step(f"Microsoft 365 group '{unified['displayName']}' deleted (recycle bin)")
        self.call("DELETE", f"/groups/{security['id']}")
        self.step(f"security group '{security['displayName']}' deleted (gone for good)")

        application = next(
            a
            for a in state["types"]["application"]["active"]
            if a.get("web", {}).get("redirectUris")
        )
        self.call(
            "PATCH",
            f"/applications/{application['id']}",
            {"web": {"redirectUris": [EVIL_REDIRECT]}},
        )
        self.step(f"app '{application['displayName']}' now sends sign-ins to {EVIL_REDIRECT}")

        rogue = self.call(
            "POST",
            "/applications",
            {"displayName": "Mail Sync Helper", "signInAudience": "AzureADMyOrg"},
        )
        rogue_sp = self.call("POST", "/servicePrincipals", {"appId": rogue["appId"]})
        resource, role = next(
            (sp, role)
            for sp in state["types"]["servicePrincipal"]["active"]
            for role in sp.get("appRoles") or []
            if "Application" in role.get("allowedMemberTypes", [])
        )
        self.call(
            "POST",
            f"/servicePrincipals/{resource['id']}/appRoleAssignedTo",
            {"principalId": rogue_sp["id"], "resourceId": resource["id"], "appRoleId": role["id"]},
        )
        self.step(
            f"rogue app 'Mail Sync Helper' registered and granted "
            f"'{role['value']}' on '{resource['displayName']}'"
        )
        return {
            "policy": policy,
            "users": users,
            "unified": unified,
            "security": security,
            "application": application,
            "rogue": rogue,
        }

    def report(self, snapshot_id: str) -> str:
        console.print(Rule("3. Difference report"))
        console.print("The SOC asks: what changed since the backup?")
        self.rewind("diff", "create", "--snapshot", snapshot_id, "--wait")
        reports = self.rewind_json("diff", "list")
        report_id = str(reports["items"][0]["id"])
        self.rewind("diff", "show", report_id)
        return report_id

    def recover(self, snapshot_id: str) -> dict[str, Any]:
        console.print(Rule("4. Recovery"))
        console.print("First the plan (a dry run writes nothing), then the recovery itself.")
        self.rewind("recover", "--snapshot", snapshot_id, "--dry-run", "--wait")
        self.rewind("recover", "--snapshot", snapshot_id, "--wait")
        recoveries = self.rewind_json("recover", "list")
        recovery: dict[str, Any] = recoveries["items"][0]
        return recovery

    def check(self, incident: dict[str, Any], recovery: dict[str, Any]) -> list[str]:
        """What is still wrong in the tenant after the recovery (empty: all good)."""
        state = self.state()
        problems: list[str] = []
        active = {
            type_name: {o["id"]: o for o in bucket["active"]}
            for type_name, bucket in state["types"].items()
        }
        policy = active["conditionalAccessPolicy"][incident["policy"]["id"]]
        wanted = set(incident["policy"]["conditions"]["users"]["excludeUsers"])
        if set(policy["conditions"]["users"].get("excludeUsers") or []) != wanted:
            problems.append("the policy's exclusions are not back")
        for user in incident["users"]:
            if active["user"][user["id"]].get("department") != user.get("department"):
                problems.append(f"user {user['userPrincipalName']} is not restored")
        if incident["unified"]["id"] not in active["group"]:
            problems.append("the Microsoft 365 group is not restored")
        names = {g["displayName"] for g in active["group"].values()}
        if incident["security"]["displayName"] not in names:
            problems.append("the security group is not re-created")
        app = active["application"][incident["application"]["id"]]
        if EVIL_REDIRECT in app.get("web", {}).get("redirectUris", []):
            problems.append("the app still redirects to the attacker's site")
        if incident["rogue"]["id"] in active["application"]:
            problems.append("the rogue app is still there")
        if recovery["status"] not in ("Completed", "Completed with warnings"):
            problems.append(f"the recovery ended {recovery['status']}")
        verification = recovery.get("verification") or {}
        if not verification.get("clean"):
            unexpected = verification.get("unexpected", "no")
            problems.append(f"the recovery's verification is not clean ({unexpected} differences)")
        return problems


def _defaults() -> dict[str, str]:
    """Addresses of the stack ``make up`` started (var/stack.json)."""
    state_file = Path("var") / "stack.json"
    if not state_file.exists():
        return {}
    state = json.loads(state_file.read_text())
    tenants = json.loads(state["env"]["REWIND_TENANTS"])
    graph = str(tenants[0]["graphBaseUrl"])
    return {
        "api_url": state["apiUrl"],
        "emulator_url": graph.removesuffix("/v1.0"),
        "tenant": tenants[0]["tenantId"],
    }


def main(argv: list[str] | None = None) -> int:
    defaults = _defaults()
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--api-url", default=defaults.get("api_url"))
    parser.add_argument("--emulator-url", default=defaults.get("emulator_url"))
    parser.add_argument("--tenant", default=defaults.get("tenant"))
    parser.add_argument("--token-file", type=Path, default=Path("var") / "admin-token")
    options = parser.parse_args(argv)
    if not (options.api_url and options.emulator_url and options.tenant):
        parser.error("no running stack found: run `make up` first (or give the addresses)")
    demo = Demo(
        api_url=options.api_url,
        emulator_url=options.emulator_url,
        tenant_id=options.tenant,
        token=options.token_file.read_text().strip(),
    )
    started = time.monotonic()
    snapshot_id = demo.backup()
    incident = demo.incident()
    demo.report(snapshot_id)
    recovery = demo.recover(snapshot_id)
    problems = demo.check(incident, recovery)
    console.print(Rule("5. Result"))
    if problems:
        for problem in problems:
            console.print(f"  [red]✗ {problem}[/]")
        return 1
    console.print(
        f"  [green]✓[/] the tenant is back to the backup on every recoverable property "
        f"({time.monotonic() - started:.0f}s); the recovery's verification is in "
        f"`rewind recover show {recovery['id']}`"
    )
    console.print(Rule("Explore"))
    console.print(f"API             {options.api_url}  (OpenAPI at {options.api_url}/docs)")
    console.print(f"admin token     {options.token_file}")
    console.print(f"Graph emulator  {options.emulator_url}/v1.0")
    console.print("CLI             .venv/bin/rewind --help")
    console.print("                .venv/bin/rewind snapshot list")
    console.print(
        f"                .venv/bin/rewind snapshot object {snapshot_id} "
        f"conditionalAccessPolicy {incident['policy']['id']}"
    )
    console.print(f"                .venv/bin/rewind snapshot verify {snapshot_id} --wait")
    console.print("                .venv/bin/rewind diff list")
    console.print(f"                .venv/bin/rewind recover show {recovery['id']}")
    console.print("stop the stack  make down")
    return 0


if __name__ == "__main__":
    sys.exit(main())
