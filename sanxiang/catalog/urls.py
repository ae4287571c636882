from django.urls import path

from . import views

app_name = "catalog"
urlpatterns = [
    # public (事前公开, 公示-3 … 公示-7)
    path("", views.index, name="index"),
    path("agency/<id:agency_id>/", views.agency_detail, name="agency"),
    path("agency/<id:agency_id>/guides/<id:pk>/", views.guide_detail, name="guide"),
    path("agency/<id:agency_id>/flowcharts/<slug:act_kind>/<slug:procedure>/", views.flowchart_detail, name="flowchart"),
    path("agency/<id:agency_id>/<slug:slug>/", views.public_list, name="list"),
    path("agency/<id:agency_id>/<slug:slug>/history/", views.history, name="history"),
    path("agency/<id:agency_id>/<slug:slug>/export.xlsx", views.public_export, name="public_export"),
    # back office
    path("office/", views.office, name="office"),
    path("office/filings/", views.filing_queue, name="filing_queue"),
    path("office/agency/<id:agency_id>/<slug:slug>/start/", views.start_draft, name="start_draft"),
    path("office/versions/<id:pk>/", views.version_detail, name="version"),
    path("office/versions/<id:pk>/import/", views.import_view, name="import"),
    path("office/versions/<id:pk>/submit/", views.submit_view, name="submit"),
    path("office/versions/<id:pk>/accept/", views.accept_view, name="accept"),
    path("office/versions/<id:pk>/return/", views.return_view, name="return"),
    path("office/versions/<id:pk>/discard/", views.discard_view, name="discard"),
    path("office/versions/<id:pk>/export.xlsx", views.version_export, name="version_export"),
    path("office/imports/<id:pk>/report.xlsx", views.import_report, name="import_report"),
    path("office/templates/<slug:slug>.xlsx", views.template_download, name="template"),
]
