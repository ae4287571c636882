from django.urls import include, path

from sanxiang.api_root import api
from sanxiang.core.admin import site as admin_site
from sanxiang.core.probe_views import healthz, metrics_view, readyz
from sanxiang.publicity.views import portal_home

urlpatterns = [
    path("healthz", healthz, name="healthz"),  # probes and metrics: docs/deploy.md
    path("readyz", readyz, name="readyz"),
    path("metrics", metrics_view, name="metrics"),
    path("admin/", admin_site.urls),
    path("", include("sanxiang.evidence.urls")),  # tus at api/v1/uploads/ (before the ninja API), workbench pages
    path("", include("sanxiang.docking.urls")),  # signed messages from lower platforms (before the ninja API)
    path("api/v1/", api.urls),
    path("catalog/", include("sanxiang.catalog.urls")),
    path("documents/", include("sanxiang.documents.urls")),
    path("review/", include("sanxiang.review.urls")),
    path("inspections/", include("sanxiang.inspections.urls")),
    path("evaluation/", include("sanxiang.evaluation.urls")),  # 案卷评查
    path("statistics/", include("sanxiang.statistics.urls")),  # the supervision cockpit (驾驶舱)
    path("measures/", include("sanxiang.measures.urls")),  # the seed's task table per unit (三项制度任务)
    path("", include("sanxiang.supervision.urls")),  # 投诉举报: /complaints/ (public), /supervision/complaints/
    path("", portal_home, name="home"),
    path("", include("sanxiang.publicity.urls")),
    path("", include("sanxiang.cases.urls")),
    path("", include("sanxiang.core.urls")),
]
