"""The built wheel carries its rule files: a non-editable install finds them."""

from __future__ import annotations

import subprocess
import sys
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.timeout(600)
def test_installed_wheel_finds_its_rules(tmp_path):
    wheels = tmp_path / "wheels"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(wheels), str(ROOT)],
        check=True,
        capture_output=True,
    )
    wheel = next(wheels.glob("migrator-*.whl"))
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True, system_site_packages=True).create(env_dir)
    python = env_dir / "bin" / "python"
    subprocess.run([python, "-m", "pip", "install", "-q", "--no-deps", str(wheel)], check=True, capture_output=True)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    probe = (
        "import migrator, migrator.rules as r; from migrator.transforms import TRANSFORMS; "
        "print(migrator.__file__); print(r.shipped_rules_dir()); "
        "print(','.join(rule.id for rule in r.load_rules((), TRANSFORMS.keys())))"
    )
    done = subprocess.run([python, "-c", probe], cwd=elsewhere, capture_output=True, text=True, check=True)
    module_file, rules_dir, ids = done.stdout.split("\n")[:3]
    assert str(env_dir) in module_file, "the wheel, not the checkout, must be imported"
    assert rules_dir.startswith(str(env_dir)) and rules_dir.endswith("migrator/rules")
    shipped = sorted(path.name.split("-", 1)[0] for path in (ROOT / "rules").glob("*.toml"))
    assert ids.split(",") == shipped
    listed = subprocess.run([env_dir / "bin" / "migrator", "rules"], cwd=elsewhere, capture_output=True, text=True)
    assert listed.returncode == 0 and "MIG001" in listed.stdout
