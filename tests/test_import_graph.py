"""The project's own modules import each other without cycles (the layers between apps are
import-linter's contract in pyproject.toml, run by `make test`)."""

import grimp

PACKAGES = (
    "config",
    "core",
    "accounts",
    "monitoring",
    "catalog",
    "feeds",
    "gateway",
    "orders",
    "payments",
    "notifications",
)


def import_cycles(graph) -> list[list[str]]:
    """Every cycle found by a depth-first walk (each reported once, from its first module)."""
    cycles, state, stack = [], {}, []

    def visit(module):
        state[module] = "open"
        stack.append(module)
        for imported in sorted(graph.find_modules_directly_imported_by(module)):
            if state.get(imported) == "open":
                cycles.append([*stack[stack.index(imported) :], imported])
            elif imported not in state:
                visit(imported)
        stack.pop()
        state[module] = "done"

    for module in sorted(graph.modules):
        if module not in state:
            visit(module)
    return cycles


def test_the_projects_modules_import_each_other_without_cycles():
    graph = grimp.build_graph(*PACKAGES, include_external_packages=False)
    assert import_cycles(graph) == []


def test_the_cycle_finder_finds_a_cycle():
    graph = grimp.ImportGraph()
    for module in ("a", "a.x", "a.y"):
        graph.add_module(module)
    graph.add_import(importer="a.x", imported="a.y")
    graph.add_import(importer="a.y", imported="a.x")
    assert import_cycles(graph) == [["a.x", "a.y", "a.x"]]
