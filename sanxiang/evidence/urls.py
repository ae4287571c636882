"""Evidence URLs: the tus endpoint under /api/v1/uploads/ (plain views,
docs/decisions/0009-tus-server.md) and the pages under /workbench/."""

from django.urls import path

from . import tus, views

app_name = "evidence"
urlpatterns = [
    path("api/v1/uploads/", tus.collection, name="tus_collection"),
    path("api/v1/uploads/<str:upload_id>", tus.resource, name="tus_upload"),
    path("workbench/cases/<id:case_id>/steps/<id:step_id>/evidence/", views.step_evidence, name="step"),
    path("workbench/evidence/<id:pk>/", views.evidence_detail, name="detail"),
    path("workbench/evidence/<id:pk>/content", views.evidence_content, name="content"),
    path("workbench/evidence/<id:pk>/<slug:action>/", views.evidence_action, name="action"),
    path("workbench/evidence/fixity/", views.fixity_alerts, name="fixity"),
    path("workbench/cases/<id:case_id>/archives/", views.case_archives, name="archives"),
    path("workbench/archives/<id:pk>/download", views.archive_download, name="archive_download"),
    path("workbench/devices/", views.device_list, name="devices"),
    path("workbench/devices/<id:pk>/", views.device_detail, name="device"),
    path("evidence/shared/<str:token>/", views.shared_content, name="shared"),
]
