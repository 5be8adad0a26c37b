"""The request authenticator, found through settings: server/api sits below every app and imports none.

`settings.API_AUTHENTICATE_REQUEST` names a callable `(request) -> (user, token) | None` that
authenticates a Django request at most once (accounts shares the result with DRF's
authentication class). The middleware and error handlers here need the user before any view
runs (the idempotency record, the language of a 404), the way DRF finds its authentication
classes in `REST_FRAMEWORK`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.utils.module_loading import import_string


@functools.cache
def _load(path: str) -> Callable[[HttpRequest], Any]:
    return import_string(path)


def authenticate_request(request: HttpRequest) -> Any:
    """(user, token) of the request's credentials, or None; raises only inside DRF's authentication."""
    return _load(settings.API_AUTHENTICATE_REQUEST)(request)
