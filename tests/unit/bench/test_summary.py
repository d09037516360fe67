"""The benchmark summary is built from every result file present, so recording one
scenario keeps the lines of the others."""

from __future__ import annotations

from pathlib import Path
from types import ModuleType

import pytest
from bench import run
from bench.harness import Check, ScenarioResult, write_result, write_summary


def _result(name: str, value: float) -> ScenarioResult:
    result = ScenarioResult(name, f"the {name} scenario")
    result.checks.append(Check(f"{name} figure", value, 1.5, "×"))
    return result


def test_recording_one_scenario_keeps_the_others_lines(tmp_path: Path) -> None:
    write_result(_result("alpha", 1.2), "make bench BENCH_ARGS=alpha", tmp_path)
    write_result(_result("beta", 2.0), "make bench BENCH_ARGS=beta", tmp_path)
    write_summary(tmp_path)

    write_result(_result("beta", 1.0), "make bench BENCH_ARGS=beta", tmp_path)
    summary = write_summary(tmp_path).read_text(encoding="utf-8")

    assert "| alpha | alpha figure | 1.2 × | ≤ 1.5 × | pass |" in summary
    assert "| beta | beta figure | 1.0 × | ≤ 1.5 × | pass |" in summary
    assert "| beta | beta figure | 2.0 ×" not in summary
    assert "`make bench BENCH_ARGS=alpha`" in summary


def test_a_missed_target_fails_its_scenario(tmp_path: Path) -> None:
    write_result(_result("gamma", 3.0), "make bench BENCH_ARGS=gamma", tmp_path)
    summary = write_summary(tmp_path).read_text(encoding="utf-8")
    assert "| gamma | FAIL (0/1) |" in summary
    assert "| gamma | gamma figure | 3.0 × | ≤ 1.5 × | FAIL |" in summary


def _scenario(name: str, value: float) -> ModuleType:
    module = ModuleType(name)
    module.run = lambda options: _result(name, value)  # type: ignore[attr-defined]
    return module


@pytest.mark.parametrize(
    ("values", "code"),
    [({"alpha": 1.0, "beta": 1.2}, 0), ({"alpha": 1.0, "beta": 3.0}, 1)],
)
def test_make_bench_fails_when_a_target_is_missed(
    monkeypatch: pytest.MonkeyPatch, values: dict[str, float], code: int
) -> None:
    monkeypatch.setattr(run, "discover", lambda: {n: _scenario(n, v) for n, v in values.items()})

    assert run.main(["--quick"]) == code
