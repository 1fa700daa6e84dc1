"""The layers read top-down and no import climbs back up (docs/architecture.md):

    domain  <-  rules  <-  db  <-  services  <-  ui  <-  pages / app.py / manage.py

Each module may import its own package and the packages below it, nothing above or beside it. The check
reads every module's imports with `ast`, including imports inside functions, so a lazy import cannot hide
a climb.
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LAYERS = {"domain": 0, "rules": 1, "db": 2, "services": 3, "ui": 4, "pages": 5, "app": 5, "manage": 5}
# third-party packages a layer must not use, whatever it imports from the product
FORBIDDEN_LIBS = {
    "domain": {"streamlit", "sqlalchemy", "alembic", "durable"},
    "rules": {"streamlit", "sqlalchemy", "alembic"},
    "db": {"streamlit"},
    "services": {"streamlit"},
}


def product_modules() -> list[Path]:
    files = [ROOT / "app.py", ROOT / "manage.py"]
    for package in ("domain", "rules", "db", "services", "ui", "pages"):
        files += sorted(p for p in (ROOT / package).rglob("*.py") if "migrations" not in p.parts)
    return files


def owner(path: Path) -> str:
    rel = path.relative_to(ROOT)
    return rel.parts[0] if len(rel.parts) > 1 else rel.stem


def imported_names(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            out.append((node.lineno, node.module))
            if node.module in LAYERS:  # `from services import commands` names a module of that package
                out += [(node.lineno, f"{node.module}.{alias.name}") for alias in node.names]
    return out


def violations(path: Path) -> list[str]:
    me = owner(path)
    rel = path.relative_to(ROOT)
    found = []
    for line, name in imported_names(path):
        top = name.split(".")[0]
        if top in LAYERS and top != me and LAYERS[top] >= LAYERS[me]:
            found.append(f"{rel}:{line} imports {name} ({me} may import only layers below it)")
        if top in FORBIDDEN_LIBS.get(me, set()):
            found.append(f"{rel}:{line} imports {name} ({me} must not use {top})")
        if top == "durable" and rel.as_posix() != "rules/engine.py":
            found.append(f"{rel}:{line} imports durable (only rules/engine.py may)")
    return found


def test_no_module_imports_a_layer_above_or_beside_it():
    problems = [v for path in product_modules() for v in violations(path)]
    assert problems == []


def test_the_check_sees_every_product_module_and_catches_a_climb(tmp_path):
    # the layering test must not pass by reading nothing
    seen = {owner(p) for p in product_modules()}
    assert seen == set(LAYERS)
    assert any(p.name == "commands.py" for p in product_modules())
    # and a climbing import, even inside a function, is reported
    bad = ROOT / "domain" / "_layer_probe_tmp.py"
    bad.write_text("def f():\n    from db.session import session_scope\n    import streamlit\n", encoding="utf-8")
    try:
        found = violations(bad)
    finally:
        bad.unlink()
    assert any("imports db.session" in v for v in found)
    assert any("must not use streamlit" in v for v in found)


@pytest.mark.parametrize("package", ["domain", "rules", "db", "services", "ui"])
def test_every_package_says_what_belongs_in_it(package):
    doc = ast.get_docstring(ast.parse((ROOT / package / "__init__.py").read_text(encoding="utf-8")))
    assert doc and len(doc) > 40
    assert f"`{package}/`" in (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
