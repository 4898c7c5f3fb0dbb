"""The house's floors: each layer imports only the layers below it.

    footfall/ (the kernel: settings, connections, keys, the wire and site models)
    collector/, aggregator/, dashboard/ (the components, side by side)
    app/ (the program: the CLI, `serve`, the embedded default, operator tools)
    bench/, tests/

So a component can run alone (`footfall collector|aggregator|dashboard`) and be
read alone, and the kernel is what they share, nothing more. Read from the
source (every `import` and `from`, at any depth of a module), so an import
inside a function counts too.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent
KERNEL = "footfall"
COMPONENTS = ("collector", "aggregator", "dashboard")
APP = "app"
ABOVE = ("bench", "tests")
LAYERS = {
    KERNEL: {APP, *COMPONENTS, *ABOVE},
    **{component: {APP, *ABOVE, *set(COMPONENTS) - {component}} for component in COMPONENTS},
    APP: set(ABOVE),
}
"""Each package of the house, and what it must not import."""


def imported_packages(path: Path) -> set[str]:
    """The top-level packages `path` imports (relative imports are its own package)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.add(node.module.split(".")[0])
    return found


@pytest.mark.parametrize("package", list(LAYERS))
def test_a_layer_imports_only_the_layers_below_it(package):
    forbidden = LAYERS[package]
    crossings = {
        str(path.relative_to(ROOT)): sorted(imported_packages(path) & forbidden)
        for path in sorted((ROOT / package).rglob("*.py"))
        if imported_packages(path) & forbidden
    }
    assert crossings == {}


def test_every_package_of_the_house_has_its_floor():
    packages = {p.name for p in ROOT.iterdir() if (p / "__init__.py").exists()}
    assert packages - set(ABOVE) == set(LAYERS)


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
