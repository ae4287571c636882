from django.urls import path

from . import views

app_name = "documents"
urlpatterns = [
    path("case/<id:case_id>/", views.case_documents, name="case"),
    path("<id:pk>/download.<str:fmt>", views.download, name="download"),
    path("case/<id:case_id>/issue/<str:kind>/", views.issue, name="issue"),
    path("case/<id:case_id>/issue/<str:kind>/preview.pdf", views.preview, name="preview"),
]
