"""No import cycles in any package of the repository (issue 9 item 2).

The graph is built from the sources with ``ast``, without importing anything: every ``import`` and
``from ... import`` statement, at module level AND inside functions (a lazy import that only hides a
cycle still counts), relative imports resolved against the importing module's package. ``from p
import x`` is an edge to the module ``p.x`` when that is a module, else to ``p`` itself. Importing
``p.x`` runs ``p/__init__`` first, but a package ``__init__`` that re-exports its submodules is no
cycle, so only the edges written in the code count.

One test per package, so that each owner makes theirs pass: a strongly connected component of
more than one module containing a module of that package fails it, and the message prints the
cycle (module -> module -> ... -> first module).
"""

import ast
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = {  # package name -> folder holding it
    "line_idlink": ROOT / "line_idlink",
    "line_emulator": ROOT / "emulator" / "line_emulator",
    "line_idlink_dev": ROOT / "devtools" / "line_idlink_dev",
    "line_idlink_addon.lib": ROOT / "line_idlink_addon" / "lib",
}


def modules():
    """{dotted module name: (path, is_package)} of every package above."""
    found = {}
    for package, folder in PACKAGES.items():
        for path in sorted(folder.rglob("*.py")):
            parts = list(path.relative_to(folder).with_suffix("").parts)
            is_package = parts[-1] == "__init__"
            if is_package:
                parts.pop()
            found[".".join([package, *parts])] = (path, is_package)
    return found


def _resolve(module, is_package, level, name):
    """The absolute name of ``from <level dots><name> import ...`` written in ``module``."""
    if not level:
        return name
    base = module.split(".") if is_package else module.split(".")[:-1]
    base = base[:len(base) - (level - 1)]
    return ".".join(base + ([name] if name else []))


def import_graph():
    known = modules()
    graph = {name: set() for name in known}
    for module, (path, is_package) in known.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            targets = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                source = _resolve(module, is_package, node.level, node.module)
                for alias in node.names:
                    submodule = f"{source}.{alias.name}"
                    targets.append(submodule if submodule in known else source)
            for target in targets:
                # ``import a.b.c`` names a.b.c; keep the longest known prefix
                while target and target not in known:
                    target = target.rpartition(".")[0]
                if target and target != module:
                    graph[module].add(target)
    return graph


def strongly_connected(graph):
    """Tarjan's algorithm: the strongly connected components, each a sorted list."""
    index, low, stack, on_stack, components = {}, {}, [], set(), []

    def visit(node):
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph[node]):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            components.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return components


def a_cycle(graph, component):
    """One cycle through the component's first module, as 'a -> b -> a'."""
    members, start = set(component), component[0]
    paths, seen = [[start]], {start}
    while paths:
        path = paths.pop(0)
        for target in sorted(graph[path[-1]] & members):
            if target == start:
                return " -> ".join(path + [start])
            if target not in seen:
                seen.add(target)
                paths.append(path + [target])
    return " <-> ".join(component)


GRAPH = import_graph()


def test_the_graph_sees_every_package_and_its_imports():
    for package in PACKAGES:
        assert any(name == package or name.startswith(package + ".") for name in GRAPH), package
    # a function-level import, a relative one, and a ``from package import module``
    assert "line_idlink.richmenu_spec" in GRAPH["line_idlink.richmenu_publisher"]
    assert "line_idlink.storage.protocol" in GRAPH["line_idlink.storage.memory"]
    assert "line_idlink.message_builders" in GRAPH["line_idlink_dev.reference.app"]
    assert "line_emulator.cli" in GRAPH["line_idlink_dev.cli"]  # imported inside a function


def test_a_cycle_is_found_and_printed():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    [cycle] = [c for c in strongly_connected(graph) if len(c) > 1]
    assert cycle == ["a", "b", "c"]
    assert a_cycle(graph, cycle) == "a -> b -> c -> a"


@pytest.mark.parametrize("package", list(PACKAGES))
def test_no_import_cycle(package):
    cycles = [a_cycle(GRAPH, component) for component in strongly_connected(GRAPH)
              if len(component) > 1
              and any(name == package or name.startswith(package + ".") for name in component)]
    assert not cycles, f"import cycles in {package}:\n" + "\n".join(cycles)


def test_the_core_imports_nothing_but_itself_and_its_dependencies():
    """Production code: no emulator, no dev tools, no werkzeug in ``line_idlink``."""
    allowed = {"line_idlink", "linebot", "jwt", "requests", "urllib3"}
    outside = set()
    for module, (path, _) in modules().items():
        if module.partition(".")[0] != "line_idlink":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import) else
                     [node.module] if isinstance(node, ast.ImportFrom) and not node.level else [])
            for name in names:
                top = name.split(".")[0]
                if top not in allowed and top not in sys.stdlib_module_names:
                    outside.add(f"{module}: {name}")
    assert not outside, sorted(outside)
