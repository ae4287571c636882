from django.urls import path

from . import views

app_name = "review"
urlpatterns = [
    path("", views.index, name="index"),
    path("flowchart/", views.flowchart, name="flowchart"),
    path("case/<id:pk>/", views.case_review, name="case"),
    path("case/<id:pk>/flags/", views.flags_view, name="flags"),
    path("case/<id:pk>/submit/", views.submit_view, name="submit"),
    path("case/<id:pk>/discussion/", views.discussion_request_view, name="discussion_request"),
    path("submission/<id:sid>/assign/", views.assign_view, name="assign"),
    path("submission/<id:sid>/opinion/", views.opinion_view, name="opinion"),
    path("submission/<id:sid>/response/", views.response_view, name="response"),
    path("submission/<id:sid>/extension/", views.extension_view, name="extension"),
    path("submission/<id:sid>/consult/", views.consult_view, name="consult"),
    path("submission/<id:sid>/document/", views.opinion_document_view, name="opinion_document"),
    path("extension/<id:eid>/approve/", views.approve_extension_view, name="approve_extension"),
    path("consultation/<id:cid>/opinion/", views.counsel_opinion_view, name="counsel_opinion"),
    path("discussion/<id:did>/", views.discussion_view, name="discussion"),
    path("discussion/<id:did>/document/", views.discussion_document_view, name="discussion_document"),
    path("catalogue/", views.catalogue, name="catalogue"),
    path("catalogue/start/", views.catalogue_action, {"action": "start"}, name="catalogue_start"),
    path("catalogue/<id:vid>/", views.catalogue_version, name="catalogue_version"),
    path("catalogue/<id:vid>/<slug:action>/", views.catalogue_action, name="catalogue_action"),
    path("reviewers/", views.reviewers, name="reviewers"),
    path("reviewers/<slug:action>/", views.reviewer_action, name="reviewer_action"),
    path("figures/", views.figures, name="figures"),
    path("figures/export.xlsx", views.figures_export, name="figures_export"),
]
