from django.urls import path

from . import views

app_name = "statistics"

urlpatterns = [
    path("cockpit/", views.cockpit, name="cockpit"),
    path("cockpit/export.xlsx", views.cockpit_export, name="cockpit_export"),
    path("cockpit/agencies/<id:pk>/", views.agency_page, name="agency"),
    path("cockpit/agencies/<id:pk>/export.xlsx", views.agency_export, name="agency_export"),
]
