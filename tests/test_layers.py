"""The house's floors: a component imports the kernel (`footfall/`), never another component.

The collector, the aggregator and the dashboard stand side by side on the kernel,
so each can run alone (`footfall collector|aggregator|dashboard`) and be read
alone. Read from the source (every `import` and `from`, at any depth of a
module), so an import inside a function counts too.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent
COMPONENTS = ("collector", "aggregator", "dashboard")


def imported_packages(path: Path) -> set[str]:
    """The top-level packages `path` imports (relative imports are its own package)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.add(node.module.split(".")[0])
    return found


@pytest.mark.parametrize("component", COMPONENTS)
def test_a_component_imports_no_other_component(component):
    others = set(COMPONENTS) - {component}
    crossings = {
        str(path.relative_to(ROOT)): sorted(imported_packages(path) & others)
        for path in sorted((ROOT / component).rglob("*.py"))
        if imported_packages(path) & others
    }
    assert crossings == {}


def test_the_check_sees_imports_at_any_depth(tmp_path):
    module = tmp_path / "m.py"
    module.write_text(
        "import collector.app\n"
        "from dashboard import pages\n"
        "def f():\n"
        "    from aggregator.schema import migrate\n"
        "from . import sibling\n"
    )
    assert imported_packages(module) == {"collector", "dashboard", "aggregator"}
