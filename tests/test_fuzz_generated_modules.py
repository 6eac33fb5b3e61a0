"""Apply on modules hypothesmith generates, each with deprecated uses added: no crash, every output parses, nothing else changes.

A short run for CI, the same examples every time (derandomized); bench/fuzz_apply.py runs
thousands of new ones.
"""

from __future__ import annotations

import hypothesmith
from hypothesis import HealthCheck, given, settings

from tests.fuzz import Tally, fix_settings

SETTINGS = fix_settings()


@settings(max_examples=40, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(hypothesmith.from_node())
def test_apply_on_generated_modules_from_libcst_nodes(generated):
    tally = Tally()
    tally.check(generated, SETTINGS)
    assert not tally.problems, tally.problems[0]


@settings(max_examples=20, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(hypothesmith.from_grammar())
def test_apply_on_generated_modules_from_the_grammar(generated):
    tally = Tally()
    tally.check(generated, SETTINGS)
    assert not tally.problems, tally.problems[0]
