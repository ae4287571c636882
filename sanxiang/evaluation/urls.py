from django.urls import path

from . import views

app_name = "evaluation"

urlpatterns = [
    path("", views.index, name="index"),
    path("campaigns/new/", views.campaign_new, name="campaign_new"),
    path("campaigns/<id:pk>/", views.campaign_detail, name="campaign"),
    path("campaigns/<id:campaign_id>/cases/<id:case_id>/", views.score, name="score"),
    path("evaluations/<id:pk>/", views.result, name="result"),
    path("rectifications/<id:pk>/", views.rectification, name="rectification"),
]
