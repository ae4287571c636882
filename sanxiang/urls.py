from django.urls import include, path

from sanxiang.api.api import api
from sanxiang.core.admin import site as admin_site

urlpatterns = [
    path("admin/", admin_site.urls),
    path("api/v1/", api.urls),
    path("catalog/", include("sanxiang.catalog.urls")),
    path("", include("sanxiang.core.urls")),
]
