"""What every benchmark scenario returns, and how results are written.

A scenario is a module in ``bench/scenarios`` with ``NAME``, ``DESCRIPTION`` and
``run(options) -> ScenarioResult``. Results go to ``bench/results/<name>.json`` with the
command that reproduces them and the machine they ran on; ``bench/results/SUMMARY.md``
collects every result as a table.
"""

from __future__ import annotations

import json
import os
import platform
import sys
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

RESULTS_DIR = Path(__file__).parent / "results"


@dataclass
class Check:
    """One figure measured against its target from DESIGN section 10."""

    name: str
    value: float
    target: float
    unit: str
    #: "max": value must stay at or below target; "min": at or above.
    kind: str = "max"

    @property
    def passed(self) -> bool:
        return self.value <= self.target if self.kind == "max" else self.value >= self.target

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "value": round(self.value, 4),
            "target": self.target,
            "unit": self.unit,
            "kind": self.kind,
            "passed": self.passed,
        }


@dataclass
class ScenarioResult:
    scenario: str
    description: str
    metrics: dict[str, Any] = field(default_factory=dict)
    checks: list[Check] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return all(check.passed for check in self.checks)


def machine() -> dict[str, Any]:
    return {
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
    }


def write_result(result: ScenarioResult, command: str) -> Path:
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / f"{result.scenario}.json"
    payload = {
        "scenario": result.scenario,
        "description": result.description,
        "command": command,
        "recordedAt": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "passed": result.passed,
        "metrics": result.metrics,
        "checks": [check.to_dict() for check in result.checks],
        "notes": result.notes,
    }
    path.write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
    return path


def write_summary() -> Path:
    rows = []
    for path in sorted(RESULTS_DIR.glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        for check in data.get("checks", []) or [None]:
            if check is None:
                rows.append(f"| {data['scenario']} | – | – | – | – |")
                continue
            verdict = "pass" if check["passed"] else "FAIL"
            bound = "≤" if check["kind"] == "max" else "≥"
            rows.append(
                f"| {data['scenario']} | {check['name']} | {check['value']} {check['unit']} "
                f"| {bound} {check['target']} {check['unit']} | {verdict} |"
            )
    summary = RESULTS_DIR / "SUMMARY.md"
    summary.write_text(
        "# Benchmark results\n\nRegenerate with `make bench`; each scenario's JSON file holds "
        "the exact command, the machine and every figure.\n\n"
        "| scenario | figure | measured | target | result |\n|---|---|---|---|---|\n"
        + "\n".join(rows)
        + "\n",
        encoding="utf-8",
    )
    return summary
