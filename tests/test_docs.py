"""The README's rule table is generated from the rule files, and must match them."""

from __future__ import annotations

from pathlib import Path

from migrator.rules import load_rules, markdown_table
from migrator.transforms import TRANSFORMS

ROOT = Path(__file__).resolve().parent.parent


def test_readme_rule_table_matches_rule_files():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = readme.split("<!-- rules:start -->\n", 1)[1].split("<!-- rules:end -->", 1)[0]
    assert block == markdown_table(load_rules((), TRANSFORMS.keys()))


def test_every_rule_has_fixture_cases():
    for rule in load_rules((), TRANSFORMS.keys()):
        cases = list((ROOT / "fixtures" / "rules" / rule.id).glob("*.py"))
        assert any(p.name.endswith(".before.py") for p in cases) or not rule.fixable, rule.id
        assert cases, f"{rule.id} has no fixture cases"
