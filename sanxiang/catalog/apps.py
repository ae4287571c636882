from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CatalogConfig(AppConfig):
    """事前公开 catalogues: enforcement items, inspection items, service guides
    and flowcharts, versioned and filed with the legal office (公示-3 … 公示-7)."""

    name = "sanxiang.catalog"
    label = "catalog"
    verbose_name = _("Catalogues")
    default_auto_field = "django.db.models.BigAutoField"
