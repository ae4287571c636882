from django.urls import path

from . import views

app_name = "review"
urlpatterns = [
    path("", views.index, name="index"),
    path("flowchart/", views.flowchart, name="flowchart"),
    path("case/<int:pk>/", views.case_review, name="case"),
    path("case/<int:pk>/flags/", views.flags_view, name="flags"),
    path("case/<int:pk>/submit/", views.submit_view, name="submit"),
    path("case/<int:pk>/discussion/", views.discussion_request_view, name="discussion_request"),
    path("submission/<int:sid>/assign/", views.assign_view, name="assign"),
    path("submission/<int:sid>/opinion/", views.opinion_view, name="opinion"),
    path("submission/<int:sid>/response/", views.response_view, name="response"),
    path("submission/<int:sid>/extension/", views.extension_view, name="extension"),
    path("submission/<int:sid>/consult/", views.consult_view, name="consult"),
    path("submission/<int:sid>/document/", views.opinion_document_view, name="opinion_document"),
    path("extension/<int:eid>/approve/", views.approve_extension_view, name="approve_extension"),
    path("consultation/<int:cid>/opinion/", views.counsel_opinion_view, name="counsel_opinion"),
    path("discussion/<int:did>/", views.discussion_view, name="discussion"),
    path("discussion/<int:did>/document/", views.discussion_document_view, name="discussion_document"),
    path("catalogue/", views.catalogue, name="catalogue"),
    path("catalogue/start/", views.catalogue_action, {"action": "start"}, name="catalogue_start"),
    path("catalogue/<int:vid>/", views.catalogue_version, name="catalogue_version"),
    path("catalogue/<int:vid>/<slug:action>/", views.catalogue_action, name="catalogue_action"),
    path("reviewers/", views.reviewers, name="reviewers"),
    path("reviewers/<slug:action>/", views.reviewer_action, name="reviewer_action"),
    path("figures/", views.figures, name="figures"),
    path("figures/export.xlsx", views.figures_export, name="figures_export"),
]
