"""The JSON API (ADR 24): OpenAPI 3.1 at /api/openapi.json, its documentation at /api/docs
(swagger-ui served from ninja's own static files, no CDN), bearer tokens, the reads and writes."""

from __future__ import annotations

from ninja import NinjaAPI
from ninja.openapi.docs import Swagger

from civicmark.api import errors, reads, writes
from civicmark.api.auth import TokenAuth

DESCRIPTION = """
CivicMark's JSON API. Every request carries a personal access token (`Authorization: Bearer
cmk_…`), made by a person for himself on his account page; it sees and does what he may on the
pages, no more. Lists are read a page at a time: pass `next_cursor` back as `cursor` until it is
null. Errors are `{"code", "message", "field"}` with the codes `unauthorized` (401), `forbidden`
(403), `not_found` (404: also anything outside the person's scope), `conflict` (409: a stale
version, a score given already, a signed-off round), `invalid` (422) and `rate_limited` (429, with
`Retry-After`). Messages are in Chinese unless the `django_language=en` cookie asks for English.
"""

api = NinjaAPI(
    title="CivicMark API",
    version="1",
    description=DESCRIPTION,
    auth=TokenAuth(),
    urls_namespace="api",
    openapi_url="/openapi.json",
    docs_url="/docs",
    docs=Swagger(settings={"persistAuthorization": False}),
)
errors.install(api)
api.add_router("", reads.router)
api.add_router("", writes.router)
