"""Paths for CI annotations are relative to the repository, found through git or GitHub's workspace."""

from __future__ import annotations

from migrator.repository import path_prefix
from tests.conftest import git


def test_prefix_inside_a_git_work_tree(tmp_path):
    project = tmp_path / "services" / "agents"
    project.mkdir(parents=True)
    git(tmp_path, "init", "-q")
    assert path_prefix(project, environ={}) == "services/agents/"
    assert path_prefix(tmp_path, environ={}) == ""


def test_prefix_from_the_github_workspace_without_git(tmp_path):
    project = tmp_path / "sub"
    project.mkdir()
    assert path_prefix(project, environ={"GITHUB_WORKSPACE": str(tmp_path)}) == "sub/"
    assert path_prefix(project, environ={"GITHUB_WORKSPACE": str(tmp_path / "elsewhere")}) == ""
    assert path_prefix(project, environ={}) == ""
