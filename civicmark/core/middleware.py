from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

# Everything the pages load is served from this origin (vendored assets, no CDN), so the
# policy can be strict: no inline scripts, no third-party origins, no framing.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self' data:; connect-src 'self'; "
    "frame-ancestors 'none'; form-action 'self'; base-uri 'self'; object-src 'none'"
)


class SecurityHeadersMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", CSP)
        if request.user.is_authenticated if hasattr(request, "user") else False:
            # Pages behind login carry personal and scoring data: never in a shared cache.
            response.headers.setdefault("Cache-Control", "no-store")
        return response


class LanguageMiddleware:
    """Chinese unless the person chose otherwise with the language switch.

    Django's LocaleMiddleware would follow the browser's Accept-Language, so an official on an
    English-language system would land in English. The product's default is Chinese; the
    choice made with the switch (a cookie) is the only thing that changes it.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        from django.conf import settings
        from django.utils import translation

        chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME, "")
        supported = {code for code, _name in settings.LANGUAGES}
        language = chosen if chosen in supported else settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = language
        response = self.get_response(request)
        response.headers.setdefault("Content-Language", language)
        return response
