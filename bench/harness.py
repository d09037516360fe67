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
import subprocess
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


def revision() -> dict[str, Any] | None:
    """The commit the figures were measured on, and whether tracked files outside
    ``bench/results`` differed from it (None outside a git checkout)."""
    root = Path(__file__).parent.parent

    def git(*args: str) -> str:
        return subprocess.run(
            ["git", "-C", str(root), *args], capture_output=True, text=True, check=True
        ).stdout.strip()

    try:
        commit = git("rev-parse", "HEAD")
        changed = git("status", "--porcelain", "--untracked-files=no", "--", ".", ":!bench/results")
    except (OSError, subprocess.CalledProcessError):
        return None
    return {"commit": commit, "uncommittedChanges": bool(changed)}


def write_result(result: ScenarioResult, command: str, results_dir: Path = RESULTS_DIR) -> Path:
    results_dir.mkdir(parents=True, exist_ok=True)
    path = results_dir / f"{result.scenario}.json"
    payload = {
        "scenario": result.scenario,
        "description": result.description,
        "command": command,
        "recordedAt": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "revision": revision(),
        "passed": result.passed,
        "metrics": result.metrics,
        "checks": [check.to_dict() for check in result.checks],
        "notes": result.notes,
    }
    path.write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
    return path


def summary_table(results_dir: Path = RESULTS_DIR) -> str:
    """Every result in ``results_dir`` as Markdown: one line per scenario (its verdict,
    when and how it was recorded), then one per figure against its target. Built from
    the JSON files present, so a scenario run alone leaves the others' lines as they
    were recorded."""
    scenarios, figures = [], []
    for path in sorted(results_dir.glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        name = data.get("scenario", path.stem)
        checks = data.get("checks") or []
        passed = sum(1 for check in checks if check["passed"])
        verdict = "pass" if data.get("passed") and passed == len(checks) else "FAIL"
        scenarios.append(
            f"| {name} | {verdict} ({passed}/{len(checks)}) | {data.get('recordedAt', '–')} "
            f"| `{data.get('command', '–')}` |"
        )
        if not checks:
            figures.append(f"| {name} | – | – | – | – |")
        for check in checks:
            bound = "≤" if check["kind"] == "max" else "≥"
            unit = check["unit"]
            figures.append(
                f"| {name} | {check['name']} | {check['value']} {unit} "
                f"| {bound} {check['target']} {unit} "
                f"| {'pass' if check['passed'] else 'FAIL'} |"
            )
    return (
        "| scenario | result | recorded | command |\n|---|---|---|---|\n"
        + "\n".join(scenarios)
        + "\n\n| scenario | figure | measured | target | result |\n|---|---|---|---|---|\n"
        + "\n".join(figures)
        + "\n"
    )


def write_summary(results_dir: Path = RESULTS_DIR) -> Path:
    summary = results_dir / "SUMMARY.md"
    summary.write_text(
        "# Benchmark results\n\nRegenerate with `make bench` (every scenario) or "
        "`make bench BENCH_ARGS=<scenario>` (one; the others' results stay as recorded). "
        "Each scenario's JSON file holds the exact command, the machine and every figure; "
        "targets are those of DESIGN section 10.\n\n" + summary_table(results_dir),
        encoding="utf-8",
    )
    return summary
