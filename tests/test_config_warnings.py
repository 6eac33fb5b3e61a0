"""The configuration warnings' view of the tree: which configured modules a file defines."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from migrator.config_warnings import module_in_tree, modules_in_tree

# A few short names, so that generated paths and modules often share components.
_PART = st.sampled_from(["app", "src", "core", "agents", "registry", "x"])
_PATH = st.lists(_PART, min_size=1, max_size=4).flatmap(
    lambda parts: st.sampled_from([f"{'/'.join(parts)}.py", f"{'/'.join(parts)}/__init__.py", f"{'/'.join(parts)}.md"])
)
_MODULE = st.lists(_PART, min_size=1, max_size=3).map(".".join)


def _defines(module: str, path: str) -> bool:
    stem = module.replace(".", "/")
    return any(path == end or path.endswith("/" + end) for end in (f"{stem}.py", f"{stem}/__init__.py"))


@given(st.sets(_MODULE, max_size=5), st.sets(_PATH, max_size=30))
def test_a_module_is_in_the_tree_when_a_path_ends_with_its_file(modules, relpaths):
    expected = {module for module in modules if any(_defines(module, path) for path in relpaths)}
    assert modules_in_tree(modules, relpaths) == expected
    for module in modules:
        assert module_in_tree(module, relpaths) == (module in expected)


def test_a_parent_folder_counts_but_a_longer_name_does_not():
    relpaths = ["src/app/core/registry.py", "lib/app/agents/__init__.py", "other/myapp/core/registry.py"]
    assert modules_in_tree(["app.core.registry", "app.agents", "myapp.core", "core.registry"], relpaths) == {
        "app.core.registry",
        "app.agents",
        "core.registry",
    }
    assert not module_in_tree("pp.core.registry", relpaths)
