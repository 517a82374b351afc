"""A lower app never imports a higher one: a higher app reacts to a lower one through a call it
makes or a signal the lower one sends."""

import ast
from pathlib import Path

import licentia

PACKAGE = Path(licentia.__file__).parent
# Each app's floor; an app may import only apps on a lower floor, and its own modules.
FLOORS = {
    "core": 0,
    "clients": 1,
    "catalog": 1,
    "keys": 2,
    "licensing": 3,
    # Imports from the vendor's previous service: clients, the catalog and keys at once.
    "transfer": 3,
    "coupons": 4,
    # Mail, releases and statistics react to coupons as to the apps below.
    "notifications": 5,
    "releases": 5,
    "statistics": 5,
    "webhooks": 5,
    "api": 6,
    "cabinet": 6,
    "portal": 6,
}


def _apps() -> list[str]:
    return sorted(path.parent.name for path in PACKAGE.glob("*/apps.py"))


def _imported_apps(path: Path) -> set[tuple[str, int]]:
    """The apps of licentia the module imports, with the line of each import."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module, *(f"{node.module}.{alias.name}" for alias in node.names)]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        else:
            continue
        for name in names:
            parts = name.split(".")
            if parts[0] == "licentia" and len(parts) > 1 and parts[1] in FLOORS:
                found.add((parts[1], node.lineno))
    return found


def import_arrows() -> list[tuple[str, str, str]]:
    """(importing module, imported app, line) for every import of another app of licentia."""
    arrows = []
    for app in _apps():
        for path in sorted((PACKAGE / app).rglob("*.py")):
            for imported, line in sorted(_imported_apps(path)):
                if imported != app:
                    arrows.append((str(path.relative_to(PACKAGE)), imported, str(line)))
    return arrows


def test_every_app_has_a_floor() -> None:
    assert set(_apps()) <= set(FLOORS), set(_apps()) - set(FLOORS)


def test_no_app_imports_an_app_above_it() -> None:
    upward = [
        f"{module}:{line} imports {imported}"
        for module, imported, line in import_arrows()
        if FLOORS[imported] > FLOORS[Path(module).parts[0]]
    ]

    assert upward == []


def test_the_check_sees_imports_in_every_form(tmp_path: Path) -> None:
    module = tmp_path / "module.py"
    module.write_text(
        "import licentia.keys.models\n"
        "from licentia.clients import services\n"
        "from licentia import licensing\n"
        "def late():\n"
        "    from licentia.api.schemas import Thing\n"
    )

    assert {app for app, _line in _imported_apps(module)} == {
        "keys",
        "clients",
        "licensing",
        "api",
    }
