"""The built wheel installs into a clean virtualenv, with its dependencies, and finds its rules there."""

from __future__ import annotations

import subprocess
import sys
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DISTRIBUTION = "migrator-codemod"


def _run(args: list, **options) -> subprocess.CompletedProcess:
    """Run a command; on failure, the assertion shows its stdout and stderr."""
    done = subprocess.run([str(a) for a in args], capture_output=True, text=True, **options)
    assert done.returncode == 0, f"{' '.join(map(str, args))} exited {done.returncode}\n{done.stdout}\n{done.stderr}"
    return done


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """A fresh virtualenv, isolated from every other site-packages, with the wheel and its dependencies."""
    tmp = tmp_path_factory.mktemp("packaging")
    wheels = tmp / "wheels"
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", wheels, ROOT])
    (wheel,) = wheels.glob("migrator_codemod-*.whl")
    env_dir = tmp / "venv"
    venv.EnvBuilder(with_pip=True, system_site_packages=False).create(env_dir)
    _run([env_dir / "bin" / "python", "-m", "pip", "install", "-q", wheel])
    return env_dir


@pytest.mark.timeout(900)
def test_installed_wheel_finds_its_rules(installed, tmp_path):
    python = installed / "bin" / "python"
    probe = (
        "import sys, migrator, migrator.rules as r; from migrator.transforms import TRANSFORMS; "
        "print(sys.prefix != sys.base_prefix); print(migrator.__file__); print(r.shipped_rules_dir()); "
        "print(','.join(rule.id for rule in r.load_rules((), TRANSFORMS.keys())))"
    )
    done = _run([python, "-c", probe], cwd=tmp_path)
    in_venv, module_file, rules_dir, ids = done.stdout.split("\n")[:4]
    assert in_venv == "True"
    assert str(installed) in module_file, "the wheel, not the checkout, must be imported"
    assert rules_dir.startswith(str(installed)) and rules_dir.endswith("migrator/rules")
    shipped = sorted(path.name.split("-", 1)[0] for path in (ROOT / "rules").glob("*.toml"))
    assert ids.split(",") == shipped
    listed = _run([installed / "bin" / "migrator", "rules"], cwd=tmp_path)
    assert "MIG001" in listed.stdout


@pytest.mark.timeout(900)
def test_installed_command_reports_distribution_version(installed, tmp_path):
    import migrator

    shown = _run([installed / "bin" / "python", "-m", "pip", "show", DISTRIBUTION], cwd=tmp_path)
    assert f"Name: {DISTRIBUTION}" in shown.stdout and f"Version: {migrator.__version__}" in shown.stdout
    assert "License: MIT" in shown.stdout
    version = _run([installed / "bin" / "migrator", "--version"], cwd=tmp_path)
    assert version.stdout.split() == ["migrator", migrator.__version__]


@pytest.mark.timeout(900)
def test_installed_command_checks_the_shipped_sample(installed, tmp_path):
    done = subprocess.run(
        [installed / "bin" / "migrator", "check", ROOT / "fixtures" / "netra_sample", "--format", "json", "--no-cache"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 1, done.stderr
    assert done.stdout.startswith("{") and '"findings"' in done.stdout
