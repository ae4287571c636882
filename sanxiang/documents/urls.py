from django.urls import path

from . import views

app_name = "documents"
urlpatterns = [
    path("case/<int:case_id>/", views.case_documents, name="case"),
    path("<int:pk>/download.<str:fmt>", views.download, name="download"),
    path("case/<int:case_id>/issue/<str:kind>/", views.issue, name="issue"),
]
