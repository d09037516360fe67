"""deploy/docker-compose.yml: valid against the Compose Specification, and production-shaped."""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

import jsonschema
import pytest

from tests.unit.deploy.support import (
    COMPOSE_FILE,
    DEPLOY,
    THIRD_PARTY_SERVICES,
    compose,
    dockerfiles,
    environment,
    parse_dockerfile,
    rewind_services,
    secret_names,
    services,
)

REWIND_SERVICES = {
    "api",
    "recorder",
    "snapshotter",
    "retention",
    "differ",
    "recoverer",
    "scheduler",
}
DATASTORES = {"mongo", "redis"}
WORKERS = {"snapshotter", "retention", "differ", "recoverer"}
#: Workers that call Microsoft Graph; retention only deletes what expired in MongoDB.
GRAPH_WORKERS = WORKERS - {"retention"}


def compose_spec_schema() -> dict[str, Any]:
    """The Compose Specification's JSON schema (compose-spec/compose-spec, Apache-2.0),
    as vendored by check-jsonschema (a pinned dev dependency)."""
    vendor = resources.files("check_jsonschema.builtin_schemas.vendor")
    schema = json.loads(vendor.joinpath("compose-spec.json").read_text(encoding="utf-8"))
    assert isinstance(schema, dict)
    return schema


def test_compose_file_validates_against_the_compose_specification() -> None:
    schema = compose_spec_schema()
    validator = jsonschema.validators.validator_for(schema)
    validator.check_schema(schema)
    errors = sorted(
        validator(schema).iter_errors(compose()), key=lambda error: list(error.absolute_path)
    )
    assert not errors, "\n".join(
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in errors
    )


def test_schema_check_rejects_an_invalid_service() -> None:
    schema = compose_spec_schema()
    broken = {"services": {"api": {"image": "x", "restart": ["not", "a", "string"]}}}
    validator = jsonschema.validators.validator_for(schema)(schema)
    assert not validator.is_valid(broken)


def test_compose_file_uses_the_specification_without_a_version_key() -> None:
    assert "version" not in compose()


def test_the_stack_has_every_service() -> None:
    expected = REWIND_SERVICES | THIRD_PARTY_SERVICES | {"graph-emulator"}
    assert set(services()) == expected


@pytest.mark.parametrize("name", sorted(set(compose()["services"])))
def test_every_service_has_a_healthcheck(name: str) -> None:
    service = services()[name]
    healthcheck = service.get("healthcheck")
    assert healthcheck, f"{name} has no healthcheck"
    assert not healthcheck.get("disable", False)
    test = healthcheck["test"]
    assert isinstance(test, list)
    assert test[0] in {"CMD", "CMD-SHELL"}
    assert len(test) > 1


@pytest.mark.parametrize("name", sorted(set(compose()["services"])))
def test_every_service_restarts(name: str) -> None:
    assert services()[name].get("restart") in {"unless-stopped", "always", "on-failure"}


@pytest.mark.parametrize("name", sorted(set(compose()["services"])))
def test_every_service_runs_as_a_non_root_user(name: str) -> None:
    service = services()[name]
    user = service.get("user")
    if user is None:
        assert "build" in service, f"{name}: a third-party image needs an explicit user"
        dockerfile = parse_dockerfile(DEPLOY.parent / service["build"]["dockerfile"])
        user = dockerfile.final_stage().last("USER")
        assert user is not None, f"{service['build']['dockerfile']} sets no USER"
    uid = str(user).split(":", 1)[0]
    assert uid not in {"0", "root", ""}, f"{name} runs as {user}"


@pytest.mark.parametrize("name", sorted(REWIND_SERVICES | {"graph-emulator"}))
def test_rewind_services_are_hardened(name: str) -> None:
    service = services()[name]
    assert service.get("read_only") is True
    assert service.get("cap_drop") == ["ALL"]
    assert "no-new-privileges:true" in service.get("security_opt", [])
    assert service.get("init") is True


def test_dependencies_wait_for_healthy_services() -> None:
    for name, service in services().items():
        for dependency, spec in service.get("depends_on", {}).items():
            assert dependency in services(), f"{name} depends on unknown {dependency}"
            assert spec["condition"] == "service_healthy", f"{name} → {dependency}"
            assert "healthcheck" in services()[dependency]


@pytest.mark.parametrize("name", sorted(REWIND_SERVICES - {"scheduler"}))
def test_services_using_mongo_and_redis_wait_for_them(name: str) -> None:
    assert set(services()[name].get("depends_on", {})) >= DATASTORES


@pytest.mark.parametrize("name", sorted(WORKERS | {"scheduler"}))
def test_workers_wait_for_the_api_which_creates_the_indexes(name: str) -> None:
    assert "api" in services()[name]["depends_on"]
    api_health = services()["api"]["healthcheck"]["test"]
    assert any(str(word).endswith("/readyz") for word in api_health)


def test_the_emulator_runs_only_under_the_demo_profile() -> None:
    for name, service in services().items():
        if name == "graph-emulator":
            assert service.get("profiles") == ["demo"]
        else:
            assert "profiles" not in service, f"{name} must run in every deployment"
    for name, service in services().items():
        assert "graph-emulator" not in service.get("depends_on", {}), name


def test_datastores_are_only_on_the_internal_backend_network() -> None:
    assert compose()["networks"]["backend"].get("internal") is True
    for name in DATASTORES:
        assert services()[name]["networks"] == ["backend"]
        assert "ports" not in services()[name]


def test_only_workers_reach_the_internet() -> None:
    reach_out = {
        name for name, service in services().items() if "egress" in service.get("networks", [])
    }
    assert reach_out == GRAPH_WORKERS


def test_redis_persists_every_write_and_never_evicts() -> None:
    command = services()["redis"]["command"]
    assert command[0] == "redis-server"
    config_path = next(word for word in command[1:] if word.endswith(".conf"))
    mounts = {
        volume.split(":")[1]: volume.split(":")[0] for volume in services()["redis"]["volumes"]
    }
    config = (DEPLOY / mounts[config_path]).read_text(encoding="utf-8")
    settings = dict(
        line.split(None, 1) for line in config.splitlines() if line and not line.startswith("#")
    )
    assert settings["appendonly"] == "yes"
    assert settings["maxmemory-policy"] == "noeviction"
    assert settings["aclfile"] == "/run/secrets/redis_acl"
    assert "redis_acl" in secret_names(services()["redis"])


def test_mongo_requires_authentication() -> None:
    mongo = services()["mongo"]
    assert "--auth" in mongo["command"]
    env = environment(mongo)
    assert env["MONGO_INITDB_ROOT_PASSWORD_FILE"] == "/run/secrets/mongo_root_password"
    assert "MONGO_INITDB_ROOT_PASSWORD" not in env


@pytest.mark.parametrize("name", sorted(REWIND_SERVICES))
def test_services_take_connection_secrets_from_files(name: str) -> None:
    service = services()[name]
    env = environment(service)
    assert "REWIND_MONGO_URL" not in env
    assert "REWIND_REDIS_URL" not in env
    for variable in ("MONGO_PASSWORD_FILE", "REDIS_PASSWORD_FILE"):
        if variable in env:
            secret = env[variable].removeprefix("/run/secrets/")
            assert secret in secret_names(service), f"{name}: {secret} is not mounted"
            assert secret in compose()["secrets"]


def test_every_secret_comes_from_a_file_under_deploy_secrets_or_an_example() -> None:
    for name, secret in compose()["secrets"].items():
        path = secret["file"]
        if path.startswith("${"):
            path = path.split(":-", 1)[1].rstrip("}")
        assert path.startswith("./secrets/"), f"secret {name} is read from {path}"


def test_used_secrets_are_declared() -> None:
    declared = set(compose()["secrets"])
    for name, service in services().items():
        assert secret_names(service) <= declared, name


def test_workers_have_a_fresh_multiprocess_metrics_directory() -> None:
    for name in WORKERS | {"scheduler"}:
        dockerfile = parse_dockerfile(DEPLOY.parent / services()[name]["build"]["dockerfile"])
        env_lines = " ".join(dockerfile.final_stage().all("ENV"))
        assert "PROMETHEUS_MULTIPROC_DIR=/run/rewind/metrics" in env_lines, name
        assert "/run/rewind/metrics" in services()[name]["tmpfs"], name


def test_metrics_ports_match_the_prometheus_scrape_jobs() -> None:
    from tests.unit.deploy.support import PROMETHEUS_DIR, load_yaml

    config = load_yaml(PROMETHEUS_DIR / "prometheus.yml")
    scraped = {
        name: sd["port"]
        for job in config["scrape_configs"]
        for sd in job.get("dns_sd_configs", [])
        for name in sd["names"]
    }
    for name, service in rewind_services().items():
        if name == "graph-emulator":
            continue
        dockerfile = parse_dockerfile(DEPLOY.parent / service["build"]["dockerfile"])
        env = " ".join(dockerfile.final_stage().all("ENV"))
        port = environment(service).get("REWIND_METRICS_PORT")
        if port is None and "REWIND_METRICS_PORT=" in env:
            port = env.split("REWIND_METRICS_PORT=", 1)[1].split()[0]
        expected = 8000 if name == "api" else int(port or 0)
        assert scraped.get(name) == expected, f"{name} is scraped on {scraped.get(name)}"


def test_every_build_uses_the_repository_root_and_an_existing_dockerfile() -> None:
    known = set(dockerfiles())
    for name, service in rewind_services().items():
        assert (COMPOSE_FILE.parent / service["build"]["context"]).resolve() == DEPLOY.parent
        assert service["build"]["dockerfile"] in known, name


def test_third_party_images_are_pinned() -> None:
    for name in THIRD_PARTY_SERVICES:
        image = services()[name]["image"]
        repository, _, tag = image.rpartition(":")
        assert repository, f"{name}: {image}"
        assert tag not in {"", "latest"}, f"{name}: {image}"
