from django.urls import path

from . import views

app_name = "measures"
urlpatterns = [
    path("", views.matrix, name="matrix"),  # the province's matrix (units × measures)
    path("export.xlsx", views.matrix_export, name="matrix_export"),
    path("roll-out/", views.roll_out, name="roll_out"),
    path("tasks/", views.task_list, name="tasks"),  # a unit's tasks
    path("tasks/<id:pk>/", views.task_detail, name="task"),
    path("tasks/<id:pk>/<slug:action>/", views.task_action, name="task_action"),
    path("evidence/<id:pk>/file", views.evidence_file, name="evidence_file"),
    path("filings/", views.filing_list, name="filings"),
]
