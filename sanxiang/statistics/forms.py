"""The cockpit's period: two dates, both included."""

from __future__ import annotations

from datetime import date, timedelta

from django import forms
from django.utils.translation import gettext_lazy as _

from sanxiang.core.forms import IsoDateInput
from sanxiang.core.parsing import MAX_DAY, MIN_DAY


class PeriodForm(forms.Form):
    date_from = forms.DateField(label=_("From"), widget=IsoDateInput(), input_formats=["%Y-%m-%d"],
                                error_messages={"invalid": _("Enter a date as YYYY-MM-DD."),
                                                "required": _("Enter the first day of the period.")})
    date_to = forms.DateField(label=_("To"), widget=IsoDateInput(), input_formats=["%Y-%m-%d"],
                              error_messages={"invalid": _("Enter a date as YYYY-MM-DD."),
                                              "required": _("Enter the last day of the period.")})

    def _in_range(self, name: str) -> date:
        day = self.cleaned_data[name]
        if not MIN_DAY <= day <= MAX_DAY:
            raise forms.ValidationError(_("Enter a date between %(first)s and %(last)s."), code="out_of_range",
                                        params={"first": MIN_DAY.isoformat(), "last": MAX_DAY.isoformat()})
        return day

    def clean_date_from(self):
        return self._in_range("date_from")

    def clean_date_to(self):
        return self._in_range("date_to")

    def clean(self):
        data = super().clean()
        if data.get("date_from") and data.get("date_to") and data["date_from"] > data["date_to"]:
            self.add_error("date_to", forms.ValidationError(_("The last day comes before the first day."),
                                                            code="date_order"))
        return data


def default_period(today: date) -> tuple[date, date]:
    """The twelve months up to today (from the day after the same day a year
    before): never empty early in January, as the calendar year so far would be."""
    try:
        year_before = today.replace(year=today.year - 1)
    except ValueError:  # 29 February
        year_before = today.replace(year=today.year - 1, day=28)
    return year_before + timedelta(days=1), today


def period_form(params, *, today: date) -> PeriodForm:
    """The form bound to the request's dates, or to the twelve months up to
    today when none were given (the cockpit's first view)."""
    if "date_from" not in params and "date_to" not in params:
        first, last = default_period(today)
        params = {"date_from": first.isoformat(), "date_to": last.isoformat()}
    return PeriodForm({"date_from": params.get("date_from", ""), "date_to": params.get("date_to", "")})
