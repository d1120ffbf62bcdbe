"""The API's one error shape, `{"code", "message", "field"}`, and how every refusal maps to it
(ADR 24). The codes are stable; the message is translated; `field` names the part of the request
that is wrong (a query parameter, a body field such as `scores.2.points`), or is null.

| code | status | when |
|---|---|---|
| unauthorized | 401 | no bearer token, or one that is unknown, revoked, expired or whose account is closed |
| forbidden | 403 | a read token used to write, or the person may not do this to an object he can see |
| not_found | 404 | no such object, or one outside the person's scope (the two are not told apart) |
| conflict | 409 | a stale version, a score already given, a round signed off (sealed) |
| invalid | 422 | a value that is not accepted: malformed, out of range, refused by the rule |
| rate_limited | 429 | the token's requests this minute are spent (`Retry-After` says how long to wait) |
"""

from __future__ import annotations

import math
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.http.multipartparser import MultiPartParserError
from django.utils.translation import gettext as _
from ninja import NinjaAPI, Schema
from ninja.errors import AuthenticationError, HttpError, ValidationError

from civicmark.core.errors import ApplicationError, NotAllowed
from civicmark.scoring.writer import Conflict

STATUS = {
    "unauthorized": 401,
    "forbidden": 403,
    "not_found": 404,
    "conflict": 409,
    "invalid": 422,
    "rate_limited": 429,
}


class ErrorOut(Schema):
    code: str
    message: str
    field: str | None = None


class ApiError(Exception):
    def __init__(
        self, code: str, message: str, *, field: str | None = None, retry_after: float = 0
    ) -> None:
        super().__init__(message)
        self.code, self.message, self.field = code, message, field
        self.retry_after = retry_after


def answer(api: NinjaAPI, request: HttpRequest, error: ApiError) -> HttpResponse:
    response = api.create_response(
        request,
        {"code": error.code, "message": error.message, "field": error.field},
        status=STATUS[error.code],
    )
    if error.code == "unauthorized":
        response["WWW-Authenticate"] = 'Bearer realm="civicmark"'
    if error.retry_after:
        response["Retry-After"] = str(max(1, math.ceil(error.retry_after)))
    return response


def of_application(exc: ApplicationError, *, field: str | None = None) -> ApiError:
    """A service's refusal: NotAllowed is forbidden, a Conflict or a sealed round a conflict,
    anything else a value refused by the rule."""
    if isinstance(exc, NotAllowed):
        return ApiError("forbidden", exc.message, field=field)
    if isinstance(exc, Conflict) or exc.code == "sealed":
        return ApiError("conflict", exc.message, field=field)
    return ApiError("invalid", exc.message, field=field)


def _field(loc: Any) -> str | None:
    # ninja's locations start with where the value came from ("query", "path", "body"); the
    # client knows that from the operation, so the field is the rest.
    parts = [str(p) for p in loc if p not in ("query", "path", "body", "form", "file")]
    return ".".join(parts) or None


def install(api: NinjaAPI) -> None:
    @api.exception_handler(ApiError)
    def _api_error(request: HttpRequest, exc: ApiError) -> HttpResponse:
        return answer(api, request, exc)

    @api.exception_handler(ApplicationError)
    def _refused(request: HttpRequest, exc: ApplicationError) -> HttpResponse:
        return answer(api, request, of_application(exc))

    @api.exception_handler(Http404)
    def _not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
        return answer(api, request, ApiError("not_found", _("Not found.")))

    @api.exception_handler(ValidationError)
    def _invalid(request: HttpRequest, exc: ValidationError) -> HttpResponse:
        first = exc.errors[0] if exc.errors else {}
        return answer(
            api,
            request,
            ApiError(
                "invalid",
                str(first.get("msg", _("Invalid request."))),
                field=_field(first.get("loc", ())),
            ),
        )

    @api.exception_handler(MultiPartParserError)
    def _bad_upload(request: HttpRequest, exc: MultiPartParserError) -> HttpResponse:
        return answer(
            api, request, ApiError("invalid", _("The upload is not a readable form."), field="file")
        )

    @api.exception_handler(AuthenticationError)
    def _unauthorized(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
        return answer(
            api,
            request,
            ApiError("unauthorized", _("Send a personal access token: Authorization: Bearer …")),
        )

    @api.exception_handler(HttpError)
    def _http(request: HttpRequest, exc: HttpError) -> HttpResponse:
        code = {
            401: "unauthorized",
            403: "forbidden",
            404: "not_found",
            409: "conflict",
            429: "rate_limited",
        }.get(exc.status_code, "invalid")
        return answer(api, request, ApiError(code, str(exc)))
