"""The built wheel carries its rule files: a non-editable install finds them."""

from __future__ import annotations

import site
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
    venv.EnvBuilder(with_pip=True).create(env_dir)
    python = env_dir / "bin" / "python"
    _see_dependencies_of_this_environment(python)
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
    assert ids.split(",")[:2] == ["MIG001", "MIG002"]
    listed = subprocess.run([env_dir / "bin" / "migrator", "rules"], cwd=elsewhere, capture_output=True, text=True)
    assert listed.returncode == 0 and "MIG001" in listed.stdout


def _see_dependencies_of_this_environment(python: Path) -> None:
    """Let the new environment import the dependencies installed here, without the checkout.

    `system_site_packages` would reach the base interpreter's folders only, not those of a
    virtual environment the tests run in; plain path lines add the folders themselves but
    run none of their `.pth` files, so an editable install of the checkout stays out.
    """
    folders = [p for p in (*site.getsitepackages(), site.getusersitepackages()) if Path(p).is_dir()]
    inner = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True, capture_output=True, text=True,
    ).stdout.strip()
    (Path(inner) / "_outer_dependencies.pth").write_text("".join(f"{folder}\n" for folder in folders))
