"""One name for one idea: module names that mean one thing, and a glossary that names real code.

Two modules of one name in two folders read as one idea; `docs/glossary.md` says which
word is which, and names the modules that hold each idea, so it must keep naming ones
that exist.
"""

from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).parent.parent
CODE = ("footfall", "collector", "aggregator", "dashboard", "app")

SAME_IDEA = {
    "__init__.py": "a package",
    "app.py": "a component's application factory",
    "appkeys.py": "a component's typed application keys",
}
"""Names that mean the same idea in every folder they are in."""

MIRRORS = {("dashboard/queries", "dashboard/sql")}
"""Folders whose modules pair up by name: a query (`queries/site.py`) and its SQL
(`sql/site.py`)."""


def test_no_two_modules_share_a_name_unless_they_mean_one_idea():
    folders_of: defaultdict[str, list[str]] = defaultdict(list)
    for folder in CODE:
        for path in (ROOT / folder).rglob("*.py"):
            if path.name not in SAME_IDEA:
                folders_of[path.name].append(path.parent.relative_to(ROOT).as_posix())
    shared = {
        name: folders
        for name, folders in folders_of.items()
        if len(folders) > 1 and tuple(sorted(folders)) not in MIRRORS
    }
    assert shared == {}


def test_every_module_the_glossary_and_architecture_name_exists():
    named = set()
    for doc in ("docs/glossary.md", "docs/architecture.md"):
        text = (ROOT / doc).read_text()
        named |= set(
            re.findall(r"`((?:footfall|collector|aggregator|dashboard|app)/[\w/.]+)`", text)
        )
    assert len(named) > 20
    missing = sorted(path for path in named if not (ROOT / path).exists())
    assert missing == []


def test_the_glossary_is_linked_from_the_readme_and_the_architecture():
    assert "docs/glossary.md" in (ROOT / "README.md").read_text()
    assert "(glossary.md)" in (ROOT / "docs/architecture.md").read_text()
