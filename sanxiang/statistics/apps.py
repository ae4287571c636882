from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from sanxiang.core.todo import register_todo_provider


class StatisticsConfig(AppConfig):
    name = "sanxiang.statistics"
    label = "statistics"
    verbose_name = _("Enforcement statistics (执法统计)")

    def ready(self):
        from . import annual_status

        # The annual report due by 31 January: on the agency's and the legal office's to-do list.
        register_todo_provider(annual_status.todo)
