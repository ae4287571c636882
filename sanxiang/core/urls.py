from django.urls import path, register_converter

from . import views


class CertificateConverter:
    regex = r"[0-9A-Za-z]{1,32}"

    def to_python(self, value):
        return value.upper()

    def to_url(self, value):
        return value


register_converter(CertificateConverter, "cert")

app_name = "core"
urlpatterns = [
    path("verify/", views.verify_lookup, name="verify_lookup"),
    path("verify/<cert:number>", views.verify, name="verify"),
    path("verify/<cert:number>/qr.svg", views.verify_qr, {"fmt": "svg"}, name="verify_qr_svg"),
    path("verify/<cert:number>/qr.png", views.verify_qr, {"fmt": "png"}, name="verify_qr_png"),
    path("officers/", views.officer_list, name="officer_list"),
    path("deadlines/", views.deadline_calculator, name="deadlines"),
    path("login/", views.login_view, name="login"),
    path("login/totp/", views.totp_setup, name="totp_setup"),
    path("logout/", views.logout_view, name="logout"),
    path("account/password/", views.password_change, name="password_change"),
    path("workbench/", views.workbench, name="workbench"),
    path("workbench/officers/", views.staff_officer_list, name="staff_officer_list"),
    path("workbench/officers/<id:pk>/", views.staff_officer_detail, name="staff_officer_detail"),
    path("workbench/agencies/<id:pk>/", views.staff_agency_detail, name="staff_agency_detail"),
    path("workbench/failed-tasks/", views.failed_tasks, name="failed_tasks"),
]
