from django.urls import path

from . import imports, views

app_name = "publicity"
urlpatterns = [
    path("decisions/", views.search_page, name="search"),
    path("decisions/<id:pk>/", views.detail, name="detail"),
    path("decisions/export.csv", views.export_csv, name="export_csv"),
    path("decisions/withdrawn/", views.withdrawn_list, name="withdrawn"),
    path("decisions/feed/<id:agency_id>/", views.AgencyFeed(), name="feed"),
    path("workbench/publicity/", views.workbench, name="workbench"),
    path("workbench/publicity/import/", imports.import_page, name="import"),
    path("workbench/publicity/settings/", views.settings_page, name="settings"),
    path("workbench/publicity/export/", imports.export_download, name="export"),
    path("workbench/publicity/<id:pk>/", views.decision_private, name="private"),
    path("workbench/publicity/<id:pk>/publish/", views.publish, name="publish"),
    path("workbench/publicity/<id:pk>/withdraw/", views.withdraw, name="withdraw"),
    path("workbench/publicity/<id:pk>/change/", views.record_change, name="change"),
    path("workbench/publicity/<id:pk>/early-end/", views.apply_early_end, name="early_end"),
    path("workbench/publicity/early-end/<id:application_id>/decide/", views.decide_early_end, name="decide_early_end"),
]
