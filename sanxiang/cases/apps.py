from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from sanxiang.core.calendar_hooks import register_provisional_recompute


class CasesConfig(AppConfig):
    name = "sanxiang.cases"
    label = "cases"
    verbose_name = _("Cases and their procedure")

    def ready(self):
        # Loading a year's holiday schedule recomputes the case deadlines
        # that were provisional (core.calendar registry; core imports no app).
        from . import services

        register_provisional_recompute(services.recompute_provisional_deadlines)
