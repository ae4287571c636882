from django.urls import path

from . import annual_views, views

app_name = "statistics"

urlpatterns = [
    path("cockpit/", views.cockpit, name="cockpit"),
    path("cockpit/export.xlsx", views.cockpit_export, name="cockpit_export"),
    path("cockpit/agencies/<id:pk>/", views.agency_page, name="agency"),
    path("cockpit/agencies/<id:pk>/export.xlsx", views.agency_export, name="agency_export"),
    path("annual/edit/", annual_views.edit, name="annual_edit"),
    path("annual/edit/save", annual_views.save, name="annual_save"),
    path("annual/status/", annual_views.status, name="annual_status"),
    path("annual/status/summary", annual_views.publish_summary, name="annual_summary"),
    path("annual/public/", annual_views.public_index, name="annual_public"),
    path("annual/public/agencies/<id:pk>/<year:year>/", annual_views.public_agency, name="annual_public_agency"),
    path("annual/public/agencies/<id:pk>/<year:year>/report.<str:fmt>", annual_views.public_export,
         name="annual_public_export"),
    path("annual/public/regions/<str:code>/<year:year>/", annual_views.public_region, name="annual_public_region"),
]
