"""Imports point one way: mimamori -> portal, bot, mail, gates (and any other package) -> core."""

import ast
import tomllib
from pathlib import Path

import pytest
from setuptools import find_namespace_packages

REPO = Path(__file__).resolve().parent.parent
NOT_SHIPPED = {"tests"}
# Every top-level package: a new one (a channel's, say) is found without a line here.
PACKAGES = tuple(sorted(p.name for p in REPO.iterdir() if (p / "__init__.py").is_file() and p.name not in NOT_SHIPPED))
MAY_IMPORT = {
    "core": set(),
    "mimamori": set(PACKAGES),  # the composition root
}
ONLY_CORE = {"core"}  # any package not named above


def _imported_packages(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found & set(PACKAGES)


def test_the_packages_are_the_ones_we_know() -> None:
    assert {"core", "bot", "mail", "gates", "portal", "mimamori"} <= set(PACKAGES)


@pytest.mark.parametrize("package", PACKAGES)
def test_a_package_imports_only_what_it_may(package: str) -> None:
    wrong = {
        str(path.relative_to(REPO)): sorted(_imported_packages(path) - MAY_IMPORT.get(package, ONLY_CORE) - {package})
        for path in (REPO / package).rglob("*.py")
    }
    assert {file: names for file, names in wrong.items() if names} == {}


def test_the_wheel_holds_every_package_and_nothing_else() -> None:
    """pyproject finds packages by exclusion, so a new package needs no line there either."""
    found = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]["packages"][
        "find"
    ]
    shipped = find_namespace_packages(str(REPO), exclude=found["exclude"])
    assert {name.split(".")[0] for name in shipped} == set(PACKAGES)


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
