"""The packages' one-way dependencies, checked by walking every import of every module.

``twin`` is the shared kernel and imports none of the others, except its command line
(``twin.cli``), which is a composition root like ``api``. See docs/architecture.md.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = {"twin", "geocode", "blocks", "models3d", "tiles", "api"}
#: Which of our packages each package may import (besides itself).
ALLOWED: dict[str, set[str]] = {
    "twin": set(),
    "geocode": {"twin"},
    "models3d": {"twin"},
    "blocks": {"twin", "geocode"},
    "tiles": {"twin", "models3d", "blocks"},
    "api": {"twin", "geocode", "blocks", "models3d", "tiles"},
}
#: Composition roots see every package; nothing imports them.
COMPOSITION_ROOTS = {"api", "twin.cli"}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def _module_name(path: Path) -> str:
    return ".".join(path.relative_to(ROOT).with_suffix("").parts)


def test_dependencies_point_one_way() -> None:
    problems = []
    for pkg in sorted(PACKAGES):
        for path in sorted((ROOT / pkg).rglob("*.py")):
            module = _module_name(path)
            is_root = any(module == r or module.startswith(r + ".") for r in COMPOSITION_ROOTS)
            for imported in _imports(path):
                target = imported.split(".")[0]
                if target not in PACKAGES or target == pkg:
                    if (
                        target == pkg == "twin"
                        and imported.startswith("twin.cli")
                        and not (module.startswith("twin.cli"))
                    ):
                        problems.append(f"{module} imports the command line {imported}")
                    continue
                if is_root and target != "api":
                    continue
                if target not in ALLOWED[pkg] or target == "api":
                    problems.append(f"{module} imports {imported}")
    assert not problems, "imports against docs/architecture.md:\n" + "\n".join(problems)


def test_the_walker_sees_imports() -> None:
    # Guard against a walker that silently finds nothing.
    assert "twin.db.connect" in _imports(ROOT / "twin" / "cli" / "db.py")
