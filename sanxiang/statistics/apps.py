from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class StatisticsConfig(AppConfig):
    name = "sanxiang.statistics"
    label = "statistics"
    verbose_name = _("Enforcement statistics (执法统计)")
