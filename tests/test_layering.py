"""Imports point one way: mimamori -> portal, bot, mail, gates -> core."""

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
PACKAGES = ("core", "bot", "mail", "gates", "portal", "mimamori")
MAY_IMPORT = {
    "core": set(),
    "bot": {"core"},
    "mail": {"core"},
    "gates": {"core"},
    "portal": {"core"},
    "mimamori": {"core", "bot", "mail", "gates", "portal"},
}


def _imported_packages(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found & set(PACKAGES)


@pytest.mark.parametrize("package", PACKAGES)
def test_a_package_imports_only_what_it_may(package: str) -> None:
    wrong = {
        str(path.relative_to(REPO)): sorted(_imported_packages(path) - MAY_IMPORT[package] - {package})
        for path in (REPO / package).rglob("*.py")
    }
    assert {file: names for file, names in wrong.items() if names} == {}


# What core/delivery must not know: the domain that queues notices (the scheduler runs its periodic work).
DOMAIN = ("core.broadcasts", "core.gate_health", "core.passages", "core.staff_notices", "core.scheduler")


def _imported_modules(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found |= {node.module} | {f"{node.module}.{alias.name}" for alias in node.names}
    return found


def test_the_delivery_engine_imports_no_domain_module() -> None:
    wrong = {
        str(path.relative_to(REPO)): sorted(
            name for name in _imported_modules(path) if any(name == d or name.startswith(f"{d}.") for d in DOMAIN)
        )
        for path in (REPO / "core" / "delivery").rglob("*.py")
    }
    assert {file: names for file, names in wrong.items() if names} == {}
