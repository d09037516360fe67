"""Every program the compose file and the Dockerfiles start is a console script of a package
that image installs (or the container script itself)."""

from __future__ import annotations

import re

import pytest

from tests.unit.deploy.support import (
    DEPLOY,
    PACKAGE_DIRS,
    console_scripts,
    dockerfiles,
    parse_dockerfile,
    rewind_services,
)

CONTAINER_SCRIPT = "rewind-container"


def image_scripts(dockerfile: str) -> set[str]:
    """Console scripts of the packages a Dockerfile installs, and the container script."""
    installed = dockerfiles()[dockerfile].installed_package_dirs()
    assert installed, dockerfile
    assert set(installed) <= set(PACKAGE_DIRS), installed
    scripts = {CONTAINER_SCRIPT}
    for package_dir in installed:
        declared = console_scripts(package_dir)
        if not declared and package_dir.startswith("services/"):
            # A service whose package is still being written; the check applies as soon
            # as it declares its entry points.
            pytest.skip(f"{package_dir}/pyproject.toml declares no console script yet")
        scripts |= declared
    return scripts


def programs(dockerfile: str, command: list[str] | None, health: list[str] | None) -> set[str]:
    final = parse_dockerfile(DEPLOY.parent / dockerfile).final_stage()
    started = {final.exec_form("ENTRYPOINT")[0], final.exec_form("HEALTHCHECK")[0]}
    started.add((command or final.exec_form("CMD"))[0])
    if health:
        started.add(health[1])
    return started


@pytest.mark.parametrize("service", sorted(rewind_services()))
def test_compose_starts_only_programs_its_image_installs(service: str) -> None:
    spec = rewind_services()[service]
    dockerfile = spec["build"]["dockerfile"]
    health = spec.get("healthcheck", {}).get("test")
    started = programs(dockerfile, spec.get("command"), health)
    missing = started - image_scripts(dockerfile)
    assert not missing, f"{service} runs {sorted(missing)}, which {dockerfile} does not install"


@pytest.mark.parametrize("dockerfile", sorted(dockerfiles()))
def test_dockerfiles_start_only_programs_they_install(dockerfile: str) -> None:
    started = programs(dockerfile, None, None)
    assert started <= image_scripts(dockerfile)


def test_the_readme_names_real_commands() -> None:
    readme = (DEPLOY / "README.md").read_text(encoding="utf-8")
    all_scripts = set().union(*(console_scripts(p) for p in PACKAGE_DIRS)) | {CONTAINER_SCRIPT}
    named = set(
        re.findall(r"docker compose (?:run --rm (?:--no-deps )?|exec )\w+ ([\w-]+)", readme)
    )
    assert named, "the README shows how to run the CLI in a container"
    assert named <= all_scripts | {"mongosh", "sh", "redis-cli"}
