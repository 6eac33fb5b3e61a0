"""Fuzz `apply` with modules hypothesmith generates, each given deprecated uses; print what happened to them.

Run by hand: ``python bench/fuzz_apply.py --examples 2000``. Every generated module is
applied twice, with the legacy import before it and after it, and a function calling the
getter after it. A bug is a crash (an internal error), an output that does not parse, a
deprecated use left unfixed without a reason, or a change to the generated code itself.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import hypothesmith  # noqa: E402
from hypothesis import HealthCheck, Phase, given, settings  # noqa: E402

from tests.fuzz import Tally, fix_settings  # noqa: E402


def fuzz(strategy, examples: int, tally: Tally) -> None:
    run_settings = fix_settings()

    @settings(
        max_examples=examples, deadline=None, database=None, phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(strategy)
    def one(generated: str) -> None:
        tally.counts["generated"] += 1
        tally.check(generated, run_settings)

    one()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=2000, help="modules per generator")
    parser.add_argument("--show", type=int, default=3, help="problems to print in full")
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    report: dict[str, dict] = {}
    for name, strategy in (("from_node", hypothesmith.from_node()), ("from_grammar", hypothesmith.from_grammar())):
        tally = Tally()
        started = time.perf_counter()
        fuzz(strategy, args.examples, tally)
        report[name] = {
            "seconds": round(time.perf_counter() - started, 1),
            "counts": dict(tally.counts),
            "refusals": dict(tally.reasons.most_common()),
            "problems": len(tally.problems),
        }
        for problem in tally.problems[: args.show]:
            print(f"--- {name} problem\n{problem}", file=sys.stderr)
        print(json.dumps({name: report[name]}, indent=2), flush=True)


if __name__ == "__main__":
    main()
