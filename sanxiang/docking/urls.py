from django.urls import path

from . import views

app_name = "docking"

urlpatterns = [
    path("api/v1/docking/messages", views.receive, name="receive"),
    path("workbench/docking/", views.index, name="index"),
    path("workbench/docking/supervision/", views.supervision, name="supervision"),
]
