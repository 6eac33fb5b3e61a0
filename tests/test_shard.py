"""`--shard K/N` splits the files deterministically; `merge-reports` puts the shards back together."""

from __future__ import annotations

import json

import pytest

from migrator.exit_codes import ExitCode, UsageError
from migrator.shard import Shard
from tests.conftest import FACTORY, write
from tests.test_sarif import assert_valid_sarif

PATHS = [f"pkg/module_{i}.py" for i in range(200)]


def test_parse_rejects_malformed_and_out_of_range_shards():
    assert Shard.parse(" 2/4 ") == Shard(2, 4)
    for text in ("2", "0/3", "4/3", "1/0", "a/b", "-1/2"):
        with pytest.raises(UsageError):
            Shard.parse(text)


def test_shards_partition_the_paths():
    owners = [[n for n in range(1, 5) if Shard(n, 4).holds(p)] for p in PATHS]
    assert all(len(o) == 1 for o in owners)
    sizes = [sum(1 for o in owners if o == [n]) for n in range(1, 5)]
    assert min(sizes) > 20, sizes


def test_adding_files_moves_no_existing_file():
    before = {p: [n for n in range(1, 4) if Shard(n, 3).holds(p)] for p in PATHS}
    more = PATHS + [f"other/new_{i}.py" for i in range(50)]
    after = {p: [n for n in range(1, 4) if Shard(n, 3).holds(p)] for p in more}
    assert all(after[p] == before[p] for p in PATHS)


@pytest.fixture
def many(project):
    write(project, {f"app/mod_{i}.py": f"from {FACTORY} import get_agent_instance_factory\n" for i in range(12)})
    return project


def test_shard_reports_merge_into_the_unsharded_report(cli, many, tmp_path):
    whole = cli("check", "--format", "json", cwd=many).json()
    reports = []
    for k in (1, 2, 3):
        target = tmp_path / f"shard-{k}.json"
        result = cli("check", "--shard", f"{k}/3", "--format", "json", "--output", str(target), "--exit-zero", cwd=many)
        assert result.code == ExitCode.CLEAN
        reports.append(str(target))
    shard_files = [json.loads(open(r).read())["summary"]["files_scanned"] for r in reports]
    assert all(count < whole["summary"]["files_scanned"] for count in shard_files)
    merged = cli("merge-reports", *reports, cwd=many)
    assert merged.code == ExitCode.FINDINGS
    doc = merged.json()
    assert doc["findings"] == whole["findings"]
    assert doc["summary"] == whole["summary"]


def test_merged_sarif_validates_and_keeps_fingerprints(cli, many, tmp_path):
    reports = []
    for k in (1, 2):
        target = tmp_path / f"s{k}.json"
        cli("scan", "--shard", f"{k}/2", "--format", "json", "--output", str(target), cwd=many)
        reports.append(str(target))
    merged = cli("merge-reports", *reports, "--format", "sarif", "--exit-zero", cwd=many)
    assert merged.code == ExitCode.CLEAN
    doc = json.loads(merged.out)
    assert_valid_sarif(doc)
    direct = json.loads(cli("check", "--format", "sarif", cwd=many).out)
    prints = lambda d: sorted(r["partialFingerprints"]["migratorFingerprint/v1"] for r in d["runs"][0]["results"])  # noqa: E731
    assert prints(doc) == prints(direct)


def test_overlapping_or_foreign_reports_are_refused(cli, many, tmp_path):
    report = tmp_path / "all.json"
    cli("scan", "--format", "json", "--output", str(report), cwd=many)
    twice = cli("merge-reports", str(report), str(report), cwd=many)
    assert twice.code == ExitCode.USAGE and "reported by both" in twice.err
    table = tmp_path / "table.txt"
    table.write_text("not json")
    assert cli("merge-reports", str(table), cwd=many).code == ExitCode.USAGE
    assert cli("merge-reports", str(tmp_path / "missing.json"), cwd=many).code == ExitCode.USAGE


def test_an_empty_shard_is_not_an_error(cli, project):
    results = [cli("check", "app/routes.py", "--shard", f"{k}/2", "--format", "json", cwd=project) for k in (1, 2)]
    assert sorted(r.code for r in results) == [ExitCode.CLEAN, ExitCode.FINDINGS]
