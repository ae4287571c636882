from django.urls import path

from . import views

app_name = "supervision"

urlpatterns = [
    # public (portal, no login)
    path("complaints/", views.complaint_form, name="complaint_form"),
    path("complaints/lookup/", views.complaint_lookup, name="complaint_lookup"),
    # the legal office (back office)
    path("supervision/complaints/", views.office_list, name="complaints"),
    path("supervision/complaints/<id:pk>/", views.office_detail, name="complaint"),
    path("supervision/alerts/", views.alert_list, name="alerts"),
    path("supervision/alerts/<id:pk>/", views.alert_detail, name="alert"),
    path("supervision/instruments/", views.instrument_list, name="instruments"),
    path("supervision/instruments/new/", views.instrument_new, name="instrument_new"),
    path("supervision/instruments/<id:pk>/", views.instrument_detail, name="instrument"),
    path("supervision/instruments/<id:pk>/<str:fmt>/", views.instrument_file, name="instrument_file"),
]
