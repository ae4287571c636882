"""The API's aggregate of routers: every app's router mounted on the one
API at /api/v1 (OpenAPI at /api/v1/openapi.json).

This composes all apps, so it lives in the project package outside them
(docs/architecture.md): the api app keeps the NinjaAPI itself with its
authentication, parser, renderer and error handlers (``sanxiang.api.api``),
the apps keep their routers, and only this module knows them all. The order
of the mounts is the order of the OpenAPI document's paths.
"""

from sanxiang.api.api import api
from sanxiang.api.platform import router as platform_router
from sanxiang.cases.api import router as cases_router
from sanxiang.catalog.api import router as catalog_router
from sanxiang.documents.api import router as documents_router
from sanxiang.evaluation.api import router as evaluation_router
from sanxiang.evidence.api import router as evidence_router
from sanxiang.inspections.api import directory_router as inspections_directory_router
from sanxiang.inspections.api import router as inspections_router
from sanxiang.publicity.api import router as publicity_router
from sanxiang.publicity.public_api import router as publicity_public_router
from sanxiang.review.api import router as review_router
from sanxiang.supervision.api import alerts_router as supervision_alerts_router
from sanxiang.supervision.api import router as complaints_router

api.add_router("", platform_router)
api.add_router("/publicity", publicity_public_router)
api.add_router("/publicity", publicity_router)
api.add_router("/catalog", catalog_router)
api.add_router("/evidence", evidence_router)
api.add_router("/cases", cases_router)
api.add_router("/documents", documents_router)
api.add_router("/review", review_router)
api.add_router("/inspections", inspections_router)
api.add_router("/inspections", inspections_directory_router)
api.add_router("/complaints", complaints_router)
api.add_router("/evaluation", evaluation_router)
api.add_router("/supervision", supervision_alerts_router)

__all__ = ["api"]
