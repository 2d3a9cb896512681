"""rlbook's import graph: no cycles, and the library never reaches into the course tools.

The graph is read from the source (AST), imports inside functions included,
so a cycle hidden in a function body counts as a cycle.
"""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "rlbook"
# What only the `rlbook` command runs (instructor and machine tools), the command
# itself included: all of it lives in rlbook/course/.
COURSE = ("rlbook.course",)


def module_name(path):
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path, name):
    """The rlbook modules a module imports, wherever the import statement sits."""
    is_package = path.name == "__init__.py"
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolve against this module's package
                base = name.split(".")
                base = base if is_package else base[:-1]
                base = base[:len(base) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            found.add(module)
            # `from rlbook import envs` imports the submodule rlbook.envs.
            found.update(f"{module}.{alias.name}" for alias in node.names)
    return found


@pytest.fixture(scope="module")
def graph():
    modules = {module_name(path): path for path in PACKAGE.rglob("*.py")}
    edges = {}
    for name, path in modules.items():
        targets = {target for target in imports_of(path, name) if target in modules}
        edges[name] = targets - {name}
    return edges


def is_course(name):
    return any(name == c or name.startswith(c + ".") for c in COURSE)


def test_the_graph_sees_imports_inside_functions(graph):
    # rlbook.dqn imports rlbook.envs at the top; rlbook.pg imports it in a function.
    assert "rlbook.envs" in graph["rlbook.dqn"]
    assert "rlbook.envs" in graph["rlbook.pg"]
    assert "rlbook.live" in graph["rlbook.tfagents_train"]


def test_the_library_never_imports_the_course_tools(graph):
    leaks = sorted((name, target) for name, targets in graph.items() if not is_course(name)
                   for target in targets if is_course(target))
    assert leaks == [], f"library modules importing course tools: {leaks}"


def find_cycle(edges):
    """One cycle as a list of modules, or None (depth-first search)."""
    state, stack = {}, []

    def visit(node):
        state[node] = "open"
        stack.append(node)
        for target in sorted(edges.get(node, ())):
            if state.get(target) == "open":
                return stack[stack.index(target):] + [target]
            if target not in state:
                cycle = visit(target)
                if cycle:
                    return cycle
        stack.pop()
        state[node] = "done"
        return None

    for node in sorted(edges):
        if node not in state:
            cycle = visit(node)
            if cycle:
                return cycle
    return None


def test_there_is_no_import_cycle(graph):
    assert find_cycle(graph) is None, " -> ".join(find_cycle(graph))


def test_the_cycle_finder_finds_a_cycle():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None
