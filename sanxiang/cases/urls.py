from django.urls import path

from . import views

app_name = "cases"
urlpatterns = [
    path("workbench/cases/", views.case_list, name="list"),
    path("workbench/cases/new/", views.open_case_view, name="open"),
    path("workbench/cases/deadlines/", views.deadlines_view, name="deadlines"),
    path("workbench/cases/av/", views.av_view, name="av"),
    path("workbench/cases/<id:pk>/", views.case_detail, name="detail"),
    path("workbench/cases/<id:pk>/proposal/", views.proposal_view, name="proposal"),
    path("workbench/cases/<id:pk>/hearing-request/", views.hearing_request_view, name="hearing_request"),
    path("workbench/cases/<id:pk>/hearing-waiver/", views.hearing_waiver_view, name="hearing_waiver"),
    path("workbench/cases/<id:pk>/hearing-notice/", views.hearing_notice_view, name="hearing_notice"),
    path("workbench/cases/<id:pk>/preservations/", views.preservation_view, name="preservation"),
    path("workbench/cases/<id:pk>/preservations/<id:preservation_id>/handled/", views.preservation_handled_view,
         name="preservation_handled"),
    path("workbench/cases/<id:pk>/terminate/", views.terminate_view, name="terminate"),
    path("workbench/cases/<id:pk>/officers/", views.assign_officer_view, name="assign_officer"),
    path("workbench/cases/<id:pk>/officers/<id:officer_id>/lead/", views.lead_officer_view, name="lead_officer"),
    path("workbench/cases/<id:pk>/officers/<id:officer_id>/remove/", views.remove_officer_view, name="remove_officer"),
    path("workbench/cases/<id:pk>/steps/start/<slug:code>/", views.start_step_view, name="start_step"),
    path("workbench/cases/<id:pk>/steps/<id:step_id>/", views.step_detail, name="step"),
    path("workbench/cases/<id:pk>/steps/<id:step_id>/exemption/", views.request_exemption_view, name="request_exemption"),
    path("workbench/cases/<id:pk>/steps/<id:step_id>/exemption/approve/", views.approve_exemption_view,
         name="approve_exemption"),
    # /workbench/cases/<id>/steps/<step_id>/evidence/ is served by the evidence app (resumable upload).
]
