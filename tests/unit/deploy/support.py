"""Loading deploy/ and answering questions about it: the compose file, the Dockerfiles,
the metric names that PromQL expressions query and the metrics the services expose."""

from __future__ import annotations

import importlib.util
import json
import re
import shlex
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any

import promql_parser
import yaml
from prometheus_client.metrics import MetricWrapperBase

ROOT = Path(__file__).resolve().parents[3]
DEPLOY = ROOT / "deploy"
COMPOSE_FILE = DEPLOY / "docker-compose.yml"
DOCKER_DIR = DEPLOY / "docker"
PROMETHEUS_DIR = DEPLOY / "prometheus"
DASHBOARD_FILE = DEPLOY / "grafana" / "dashboards" / "rewind.json"
MONGO_ROLES_FILE = DEPLOY / "mongo" / "roles.json"
CONTAINER_SCRIPT = DOCKER_DIR / "rewind-container.py"

#: Every package's pyproject, by the directory a Dockerfile installs it from.
PACKAGE_DIRS = (
    "libs/common",
    "services/api",
    "services/snapshotter",
    "services/differ",
    "services/recoverer",
    "services/graph-emulator",
)

#: Services built from this repository, and the infrastructure around them.
THIRD_PARTY_SERVICES = frozenset({"mongo", "redis", "prometheus", "grafana"})


def load_container_script() -> ModuleType:
    """deploy/docker/rewind-container.py as a module (it is a script, not a package)."""
    spec = importlib.util.spec_from_file_location("rewind_container", CONTAINER_SCRIPT)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def load_yaml(path: Path) -> Any:
    with path.open(encoding="utf-8") as handle:
        return yaml.safe_load(handle)


@cache
def compose() -> dict[str, Any]:
    """The compose file as Compose sees it (YAML anchors and merge keys resolved)."""
    document = load_yaml(COMPOSE_FILE)
    assert isinstance(document, dict)
    return document


def services() -> dict[str, dict[str, Any]]:
    result = compose()["services"]
    assert isinstance(result, dict)
    return result


def rewind_services() -> dict[str, dict[str, Any]]:
    """Services whose image is built from a Dockerfile of this repository."""
    return {name: spec for name, spec in services().items() if "build" in spec}


def environment(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment", {})
    if isinstance(env, list):
        return dict(item.split("=", 1) for item in env)
    return {key: str(value) for key, value in env.items()}


def secret_names(service: dict[str, Any]) -> set[str]:
    return {
        item if isinstance(item, str) else item["source"] for item in service.get("secrets", [])
    }


# -- Dockerfiles ------------------------------------------------------------------------


@dataclass
class Dockerfile:
    path: Path
    #: (instruction, arguments) with continuation lines joined, comments dropped.
    instructions: list[tuple[str, str]] = field(default_factory=list)

    def all(self, instruction: str) -> list[str]:
        return [args for name, args in self.instructions if name == instruction]

    def last(self, instruction: str) -> str | None:
        found = self.all(instruction)
        return found[-1] if found else None

    def final_stage(self) -> Dockerfile:
        """The instructions of the last build stage (what the image runs)."""
        start = max(i for i, (name, _) in enumerate(self.instructions) if name == "FROM")
        return Dockerfile(self.path, self.instructions[start:])

    def exec_form(self, instruction: str) -> list[str]:
        """The JSON (exec) form of the last ``instruction``, e.g. CMD or ENTRYPOINT."""
        args = self.last(instruction)
        assert args is not None, f"{self.path.name} has no {instruction}"
        if instruction == "HEALTHCHECK":
            args = args.split("CMD", 1)[1]
        value = json.loads(args)
        assert isinstance(value, list), f"{self.path.name}: {instruction} is not exec form"
        return [str(item) for item in value]

    def installed_package_dirs(self) -> list[str]:
        """Repository directories that ``pip install`` installs in this Dockerfile."""
        found: list[str] = []
        for args in self.all("RUN"):
            for command in re.split(r"&&|;", args):
                words = shlex.split(command)
                if "pip" in " ".join(words[:1]) and "install" in words:
                    found += [w.removeprefix("./") for w in words if w.startswith("./")]
        return found


def parse_dockerfile(path: Path) -> Dockerfile:
    result = Dockerfile(path)
    pending = ""
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        full = pending + line
        pending = ""
        name, _, args = full.partition(" ")
        result.instructions.append((name.upper(), args.strip()))
    return result


def dockerfiles() -> dict[str, Dockerfile]:
    """Every Dockerfile under deploy/docker, by its path relative to the repository."""
    return {
        path.relative_to(ROOT).as_posix(): parse_dockerfile(path)
        for path in sorted(DOCKER_DIR.glob("Dockerfile.*"))
    }


# -- packages ---------------------------------------------------------------------------


def console_scripts(package_dir: str) -> set[str]:
    with (ROOT / package_dir / "pyproject.toml").open("rb") as handle:
        project = tomllib.load(handle)["project"]
    return set(project.get("scripts", {}))


# -- metrics ----------------------------------------------------------------------------

#: Grafana's built-in variables, replaced by a duration so that expressions parse.
_GRAFANA_DURATIONS = re.compile(
    r"\$__(rate_interval|interval|range)\b|\$\{__(rate_interval|interval|range)\}"
)
#: Series Prometheus itself produces, which the services need not expose.
PROMETHEUS_SERIES = frozenset({"up"})
_SUFFIXES = {
    "counter": ("_total",),
    "histogram": ("_bucket", "_sum", "_count"),
    "summary": ("", "_sum", "_count"),
    "gauge": ("",),
}


def parse_promql(expression: str) -> promql_parser.Expr:
    """Parse a PromQL expression, with Grafana's ``$__*`` durations replaced."""
    return promql_parser.parse(_GRAFANA_DURATIONS.sub("5m", expression))


def queried_metrics(expression: str) -> set[str]:
    """Names of every series an expression selects (``foo_bucket`` stays ``foo_bucket``)."""
    names: set[str] = set()

    def visit(node: promql_parser.Expr) -> None:
        if isinstance(node, promql_parser.VectorSelector):
            assert node.name, f"selector without a metric name in {expression!r}"
            names.add(node.name)

    promql_parser.walk(parse_promql(expression), visit)
    return names


def families(module: ModuleType) -> dict[str, str]:
    """Metric families a module defines: name (as prometheus-client keeps it) → type."""
    found: dict[str, str] = {}
    for value in vars(module).values():
        if isinstance(value, MetricWrapperBase):
            for metric in value.describe():
                found[metric.name] = metric.type
    return found


def exposed_series(module_families: dict[str, str]) -> dict[str, str]:
    """Series names a scrape shows (in multiprocess mode: no ``_created``) → family."""
    series: dict[str, str] = {}
    for name, kind in module_families.items():
        for suffix in _SUFFIXES[kind]:
            series[name + suffix] = name
    return series


def dashboard() -> dict[str, Any]:
    value = json.loads(DASHBOARD_FILE.read_text(encoding="utf-8"))
    assert isinstance(value, dict)
    return value


def dashboard_panels() -> Iterator[dict[str, Any]]:
    def walk(panels: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
        for panel in panels:
            yield panel
            yield from walk(panel.get("panels", []))

    yield from walk(dashboard()["panels"])


def dashboard_expressions() -> dict[str, str]:
    """Every PromQL expression of the dashboard, keyed by where it is."""
    found: dict[str, str] = {}
    for panel in dashboard_panels():
        for target in panel.get("targets", []):
            found[f"panel {panel['title']!r} {target['refId']}"] = target["expr"]
    label_values = re.compile(r"^label_values\((?P<expr>.+),\s*[a-zA-Z_]\w*\)$")
    for variable in dashboard()["templating"]["list"]:
        if variable["type"] != "query":
            continue
        query = variable["query"]
        text = query["query"] if isinstance(query, dict) else query
        match = label_values.match(text)
        found[f"variable {variable['name']!r}"] = match["expr"] if match else text
    return found


def alert_rules() -> list[dict[str, Any]]:
    document = load_yaml(PROMETHEUS_DIR / "alerts.yml")
    return [rule for group in document["groups"] for rule in group["rules"]]
