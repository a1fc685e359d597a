"""The URL walk: every route of the node is either checked by a generic scoping test or its view is
marked public on purpose (``xietong.core.generic.public``). A new route with neither fails here.

Generic test classes (``ScopedObjectViewTests``, ``SignInRequiredTests``) and tests decorated with
``covers(...)`` record the routes they check in ``COVERED_ROUTES`` when their module is imported;
this test imports every app's test modules that use them, then walks the resolver.
"""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

import xietong
from xietong.core.generic import is_public, public
from xietong.core.testing import COVERED_ROUTES, Route, covers, routes_by_name

# Routes neither covered nor public today, each with the reason. Shrink it: a route that gains
# coverage or the public mark must leave this list (``test_known_uncovered_is_current`` says so).
KNOWN_UNCOVERED: dict[str, str] = {}


def _import_test_modules() -> None:
    """Import the test modules that declare coverage, so their classes fill ``COVERED_ROUTES``."""
    root = Path(xietong.__file__).parent
    for path in sorted(root.glob("*/tests/test_*.py")):
        text = path.read_text(encoding="utf-8")
        if "xietong.core.testing" not in text or path.stem == "test_url_walk":
            continue
        importlib.import_module(".".join(path.relative_to(root.parent).with_suffix("").parts))


def uncovered(routes: dict[str, Route]) -> list[str]:
    """Routes with neither generic coverage nor the public mark (nor a place in KNOWN_UNCOVERED)."""
    problems = []
    for name, route in sorted(routes.items()):
        if not name:
            problems.append(f"{route.pattern}: a route without a name cannot be checked")
        elif not (is_public(route.callback) or name in COVERED_ROUTES or name in KNOWN_UNCOVERED):
            problems.append(f"{name} ({route.pattern})")
    return problems


@pytest.fixture(scope="module")
def routes() -> dict[str, Route]:
    _import_test_modules()
    return routes_by_name()


def test_every_route_is_covered_or_public(routes: dict[str, Route]) -> None:
    problems = uncovered(routes)
    assert not problems, (
        "Routes with neither a generic scoping test (ScopedObjectViewTests, SignInRequiredTests, "
        "@covers) nor the @public mark on their view:\n  " + "\n  ".join(problems)
    )


def test_known_uncovered_is_current(routes: dict[str, Route]) -> None:
    """Each entry still names a route that is neither covered nor public: the list only shrinks."""
    stale = [
        name
        for name in KNOWN_UNCOVERED
        if name not in routes or name in COVERED_ROUTES or is_public(routes[name].callback)
    ]
    assert not stale, f"Remove from KNOWN_UNCOVERED (gone, covered or public now): {stale}"


def test_a_new_route_without_coverage_fails(routes: dict[str, Route]) -> None:
    """The walk catches a route added with neither; the public mark or ``covers`` lets it pass."""

    def view(request: object) -> None:
        raise AssertionError("never called")

    added = {**routes, "t:new_page": Route("t:new_page", "t/new/", view, ())}
    assert uncovered(added) == ["t:new_page (t/new/)"]
    assert uncovered({**routes, "t:new_page": Route("t:new_page", "t/new/", public(view), ())}) == []
    covers("t:new_page")(view)
    try:
        assert uncovered(added) == []
    finally:
        COVERED_ROUTES.pop("t:new_page")
