"""The tenancy harness: every route of the URLconf, with the ids to call it.

Routes are found by walking the URLconf, so a new route is covered by simply
existing. A route with path parameters needs an object of organisation A for
each parameter name: `tests/security/tenancy_<app>.py` files define
`TENANCY_FIXTURES = {"<kwarg>": lambda world: <id in org A>}`; a kwarg nobody
registered fails the harness by name.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from django.urls import URLPattern, URLResolver, get_resolver

import tests.security as security_package

METHODS = ("get", "post", "put", "patch", "delete")

# Routes anyone may call without a token (the short explicit allow-list).
PUBLIC_ROUTES = frozenset(
    {
        "auth-login",
        "auth-activate",
        "auth-password-reset",
        "auth-password-reset-confirm",
        "healthz",
        "readyz",
        "schema",
        "docs",
        "asyncapi",
        "api-index",
        "home",
    }
)


@dataclass(frozen=True)
class Route:
    name: str
    pattern: str
    kwargs: tuple[str, ...]
    methods: tuple[str, ...]

    @property
    def is_api(self) -> bool:
        return self.pattern.startswith("api/")


@dataclass
class World:
    """Two organisations with every role; fixtures create objects in org A."""

    org_a: Any
    admin_a: Any
    leader_a: Any
    employee_a: Any
    group_a: Any
    org_b: Any
    admin_b: Any
    leader_b: Any
    employee_b: Any
    group_b: Any
    cache: dict

    def once(self, key: str, make: Callable[[], Any]) -> Any:
        """Build an object once per world, so fixtures can share (a comment's post...)."""
        if key not in self.cache:
            self.cache[key] = make()
        return self.cache[key]


def _methods_of(callback: Any) -> tuple[str, ...]:
    actions = getattr(callback, "actions", None)
    if actions:
        return tuple(method for method in METHODS if method in actions)
    view_class = getattr(callback, "view_class", None) or getattr(callback, "cls", None)
    if view_class is None:
        return ("get",)
    return tuple(method for method in METHODS if hasattr(view_class, method))


def _walk(patterns: list, prefix: str = "") -> Iterator[tuple[str, URLPattern]]:
    for entry in patterns:
        if isinstance(entry, URLResolver):
            yield from _walk(entry.url_patterns, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern), entry


def all_routes() -> list[Route]:
    routes = []
    for pattern, entry in _walk(get_resolver().url_patterns):
        if pattern.startswith("admin/"):
            continue  # the Django admin site has its own tests
        routes.append(
            Route(
                name=entry.name or "",
                pattern=pattern,
                kwargs=tuple(entry.pattern.converters.keys()) if hasattr(entry.pattern, "converters") else (),
                methods=_methods_of(entry.callback),
            )
        )
    return routes


def object_routes() -> list[Route]:
    return [route for route in all_routes() if route.is_api and route.kwargs]


def fixtures() -> dict[str, Callable[[World], int]]:
    registry: dict[str, Callable[[World], int]] = {}
    for module_info in pkgutil.iter_modules(security_package.__path__):
        if module_info.name.startswith("tenancy_"):
            module = importlib.import_module(f"tests.security.{module_info.name}")
            for kwarg, make in getattr(module, "TENANCY_FIXTURES", {}).items():
                if kwarg in registry:
                    raise AssertionError(f"URL kwarg {kwarg!r} is registered twice (in {module_info.name})")
                registry[kwarg] = make
    return registry
