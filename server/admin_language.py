"""The admin site speaks the signed-in person's language."""

from __future__ import annotations

from django.utils import translation

from accounts.authentication import language_from_header

API_PREFIX = "/api/"  # the API chooses its language itself (accounts.authentication)


class AdminLanguageMiddleware:
    """Outside /api/, after authentication: the person's saved language, else the browser's
    (Accept-Language, when it names a language we offer), else their organisation's.

    Django's LocaleMiddleware alone follows the browser, so a Dutch admin on an English
    laptop got an English admin site whatever they chose in the app.
    """

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        if not request.path_info.startswith(API_PREFIX):
            user = getattr(request, "user", None)
            if user is not None and user.is_authenticated:
                language = user.language or language_from_header(request) or user.effective_language
                translation.activate(language)
                request.LANGUAGE_CODE = translation.get_language()
        return self.get_response(request)
