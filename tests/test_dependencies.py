"""Every library CivicMark's code uses is one pyproject.toml asks for by name (issue 16):
fontTools was imported by the PDF code but only came along because fpdf2 needs it, so a new
fpdf2 that dropped or capped it would have broken every PDF on the next install."""

from __future__ import annotations

import ast
import importlib.metadata
import re
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CODE = ROOT / "civicmark"
# A dotted path named in a string (INSTALLED_APPS, MIDDLEWARE, backends) is an import too.
DOTTED = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)\.[A-Za-z_][\w.]*$")


def normalised(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def declared() -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    names = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")
    return {normalised(names.match(spec)[1]) for spec in project["dependencies"]}


def imported_modules(source: str) -> set[str]:
    """The top-level modules a file imports, or names by dotted path in a string."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            dotted = DOTTED.match(node.value)
            if dotted:
                found.add(dotted[1])
    return found


def third_party_imports() -> dict[str, set[str]]:
    """Each third-party module imported in civicmark/, with the files that import it."""
    providers = importlib.metadata.packages_distributions()
    used: dict[str, set[str]] = {}
    for path in CODE.rglob("*.py"):
        if "migrations" in path.parts:
            continue
        for module in imported_modules(path.read_text(encoding="utf-8")):
            if module in sys.stdlib_module_names or module == "civicmark":
                continue
            if module not in providers:
                continue  # a dotted string that names no installed module ("zh.hans", a field)
            used.setdefault(module, set()).add(str(path.relative_to(ROOT)))
    return used


def test_it_lists_every_imported_library_in_pyproject():
    providers = importlib.metadata.packages_distributions()
    wanted = declared()
    unlisted = {
        module: sorted(files)
        for module, files in third_party_imports().items()
        if not {normalised(d) for d in providers[module]} & wanted
    }
    assert not unlisted, f"imported but not in pyproject.toml's dependencies: {unlisted}"


def test_it_finds_the_libraries_named_only_in_settings():
    """The check reads dotted paths in strings too: whitenoise and axes are never imported by
    a statement, only named in MIDDLEWARE and INSTALLED_APPS."""
    used = third_party_imports()
    assert {"whitenoise", "axes", "django_otp", "fontTools", "PIL"} <= set(used)


def test_it_reads_a_missing_library_as_unlisted():
    """The check can fail: a file importing a library pyproject does not name is caught."""
    providers = importlib.metadata.packages_distributions()
    modules = imported_modules("import hypothesis\nfrom fontTools.ttLib import TTFont\n")
    assert modules == {"hypothesis", "fontTools"}
    assert not {normalised(d) for d in providers["hypothesis"]} & declared()
