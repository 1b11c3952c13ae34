"""The one NinjaAPI instance: ``/api/v1``, OpenAPI at ``/api/v1/openapi.json``, docs at ``/api/v1/docs``."""

from __future__ import annotations

from ninja import NinjaAPI
from ninja.renderers import JSONRenderer

from guanxi import __version__
from guanxi.api import problems
from guanxi.api.auth import SessionAuth, TokenAuth
from guanxi.core.api import router as core_router
from guanxi.customers.api import contacts_router, tags_router
from guanxi.customers.api import router as customers_router
from guanxi.customers.dedupe.api import router as duplicates_router
from guanxi.customers.exports_api import router as exports_router
from guanxi.customers.imports.api import router as imports_router
from guanxi.customers.merge_api import router as merge_router
from guanxi.customers.pool_api import router as pool_router
from guanxi.engagement.api import router as engagement_router
from guanxi.marketing.api import router as marketing_router


class UnicodeJSONRenderer(JSONRenderer):
    json_dumps_params = {"ensure_ascii": False}


api = NinjaAPI(
    title="Guanxi CRM API",
    version=__version__,
    description=(
        "REST API of Guanxi (关系) CRM. Authenticate with `Authorization: Bearer gx_…` "
        "(create a token with `guanxi token create USERNAME --org ORG`). Errors are RFC 9457 problem+json "
        "with a per-field `errors` list. Lists use cursor pagination: pass `next_cursor` back as `cursor`."
    ),
    urls_namespace="api",
    auth=[TokenAuth(), SessionAuth()],
    renderer=UnicodeJSONRenderer(),
)
problems.install(api)
api.add_router("", core_router)
api.add_router("", exports_router)  # before customers: /customers/export is not a customer id
api.add_router("", customers_router)
api.add_router("", contacts_router)
api.add_router("", tags_router)
api.add_router("", pool_router)
api.add_router("", duplicates_router)
api.add_router("", merge_router)
api.add_router("", engagement_router)
api.add_router("", imports_router)
api.add_router("", marketing_router)
