"""Run benchmark scenarios: ``python -m bench.run [scenario ...] [--quick]``.

Without names, every scenario in ``bench/scenarios`` runs, in name order. Each result
is written to ``bench/results/<scenario>.json``; ``bench/results/SUMMARY.md`` is then
rebuilt from every result file there and printed.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import shlex
import sys
import traceback
from types import ModuleType

from bench import scenarios
from bench.harness import ScenarioResult, summary_table, write_result, write_summary


def discover() -> dict[str, ModuleType]:
    found = {}
    for info in pkgutil.iter_modules(scenarios.__path__):
        module = importlib.import_module(f"bench.scenarios.{info.name}")
        if hasattr(module, "run"):
            found[module.NAME] = module
    return dict(sorted(found.items()))


def main(argv: list[str] | None = None) -> int:
    available = discover()
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("names", nargs="*", help=f"scenarios: {', '.join(available)}")
    parser.add_argument(
        "--quick", action="store_true", help="smaller tenants, for a smoke run (not recorded)"
    )
    options = parser.parse_args(argv)
    unknown = set(options.names) - set(available)
    if unknown:
        parser.error(f"unknown scenarios: {', '.join(sorted(unknown))}")
    selected = options.names or list(available)
    failed, broken = [], []
    try:
        for name in selected:
            print(f"== {name}", flush=True)
            try:
                result: ScenarioResult = available[name].run(options)
            except Exception:
                # One scenario that cannot run must not cost the others their results.
                traceback.print_exc()
                broken.append(name)
                continue
            for check in result.checks:
                verdict = "pass" if check.passed else "FAIL"
                print(
                    f"   {check.name}: {check.value:.3f} {check.unit} "
                    f"(target {check.target}) {verdict}"
                )
            if not options.quick:
                command = "make bench BENCH_ARGS=" + shlex.quote(name)
                print(f"   recorded {write_result(result, command)}")
            if not result.passed:
                failed.append(name)
    finally:
        if not options.quick:
            # From every result file present: scenarios not run keep their lines.
            summary = write_summary()
            print(f"\n{summary_table()}summary: {summary}")
    if failed:
        print(f"targets missed: {', '.join(failed)}", file=sys.stderr)
    if broken:
        print(f"scenarios that did not run to the end: {', '.join(broken)}", file=sys.stderr)
    # A missed target fails the command, so a pipeline running `make bench` notices it.
    return 1 if failed or broken else 0


if __name__ == "__main__":
    raise SystemExit(main())
