from django.urls import path

from . import directory_views, views

app_name = "inspections"
urlpatterns = [
    # public (公示-15)
    path("draws/", views.public_draws, name="public_draws"),
    path("draws/<id:pk>/", views.public_draw, name="public_draw"),
    path("verify-draw.py", views.verifier, name="verifier"),
    path("results/", views.public_results, name="public_results"),
    # back office (双随机抽查)
    path("office/", views.office, name="office"),
    # the directory of inspection objects (检查对象名录库)
    path("office/directory/", directory_views.directory, name="directory"),
    path("office/directory/template/", directory_views.directory_template, name="directory_template"),
    path("office/directory/import/", directory_views.directory_import, name="directory_import"),
    path("office/directory/reports/<str:report_id>/", directory_views.directory_report, name="directory_report"),
    path("office/directory/add/", directory_views.directory_add, name="directory_add"),
    path("office/directory/<id:pk>/conflict/", directory_views.directory_conflict, name="directory_conflict"),
    path("office/plans/", views.plan_create, name="plan_create"),
    path("office/plans/<id:pk>/batches/", views.batch_add, name="batch_add"),
    path("office/plans/<id:pk>/submit/", views.plan_submit, name="plan_submit"),
    path("office/plans/<id:pk>/decide/", views.plan_decide, name="plan_decide"),
    path("office/batches/<id:pk>/draw/", views.draw_start, name="draw_start"),
    path("office/draws/<id:pk>/commit/", views.draw_commit, name="draw_commit"),
    path("office/draws/<id:pk>/reveal/", views.draw_reveal, name="draw_reveal"),
    path("office/draws/<id:pk>/public-value/", views.draw_public_value, name="draw_public_value"),
    path("office/draws/<id:pk>/redraw/", views.draw_redraw, name="draw_redraw"),
    path("office/inspections/<id:pk>/start/", views.inspection_start, name="inspection_start"),
    path("office/inspections/<id:pk>/result/", views.inspection_result, name="inspection_result"),
    path("office/figures/", views.figures, name="figures"),
    path("office/figures.xlsx", views.figures_export, name="figures_export"),
]
