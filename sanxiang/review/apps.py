from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReviewConfig(AppConfig):
    name = "sanxiang.review"
    label = "review"
    verbose_name = _("Legal review of major decisions")

    def ready(self):
        # The last line of defence of 审核-8: a decision recorded through any
        # door that bypasses the services (admin forms, imports, scripts) is
        # refused at save time. See guards.py and docs/review.md.
        from sanxiang.cases.services import register_case_changed

        from . import guards, services

        guards.connect()
        # The evaluation is recorded by the case writes that change its
        # inputs, with the acting user — never by a read (issue 9).
        register_case_changed(services.record_evaluation)
