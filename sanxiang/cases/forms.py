"""Forms of the officer pages. They only parse input; the services decide."""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from sanxiang.core.formfields import IdModelChoiceField, IdModelMultipleChoiceField
from sanxiang.core.forms import IsoDateInput, TextForm
from sanxiang.catalog.processes import all_processes
from sanxiang.core.vocabulary import ActKind, PartyType, PenaltyCategory

from .models import OfficerRole, Procedure


class IsoDateTimeInput(forms.DateTimeInput):
    """An ``<input type="datetime-local">`` with its ISO value (China time):
    a step recorded after the fact carries the moment it really happened."""

    input_type = "datetime-local"

    def __init__(self, attrs=None, format=None):
        super().__init__(attrs, format=format or "%Y-%m-%dT%H:%M")


def moment_field(label):
    """When it really happened; blank: now. Never in the future (the service refuses)."""
    return forms.DateTimeField(label=label, required=False, widget=IsoDateTimeInput(),
                               help_text=_("Leave blank for now; for a record entered afterwards, when it really happened."))


class OfficerChoiceField(IdModelMultipleChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.name}（{obj.certificate_number}）"


class OpenCaseForm(TextForm):
    text_kinds = {"party_name": "name", "party_credit_code": "number", "party_id_number": "number"}
    party_name_fields = ("party_name",)

    title = forms.CharField(label=_("case title"), max_length=255)
    act_kind = forms.ChoiceField(label=_("act kind"), choices=())
    procedure = forms.ChoiceField(label=_("procedure"), choices=Procedure.choices, initial=Procedure.GENERAL)
    party_name = forms.CharField(label=_("party"), max_length=255)
    party_type = forms.ChoiceField(label=_("party type"), choices=PartyType.choices)
    party_credit_code = forms.CharField(label=_("party credit code"), max_length=18, required=False)
    # A natural person's ID number: without it the decision cannot reach
    # publicity (公示-14, the intake requires it for a natural person).
    party_id_number = forms.CharField(label=_("party ID number"), max_length=18, required=False)
    opened_on = forms.DateField(label=_("opened on"), widget=IsoDateInput())
    officers = OfficerChoiceField(label=_("officers"), queryset=None, widget=forms.CheckboxSelectMultiple)
    proposed_fine_yuan = forms.DecimalField(label=_("proposed fine (yuan, summary procedure)"), required=False,
                                            min_value=Decimal(0), decimal_places=2, max_digits=14)

    def __init__(self, *args, officers_qs, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["officers"].queryset = officers_qs
        # A case runs on a process definition: the kinds that have one.
        defined = {d.act_kind for d in all_processes()}
        self.fields["act_kind"].choices = [c for c in ActKind.choices if c[0] in defined]


class StartStepForm(TextForm):
    officers = OfficerChoiceField(label=_("officers"), queryset=None, widget=forms.CheckboxSelectMultiple)
    place = forms.CharField(label=_("place"), max_length=255, required=False)
    at_premises = forms.BooleanField(label=_("in the case-handling premises"), required=False)
    note = forms.CharField(label=_("record"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    at = moment_field(_("started at"))

    def __init__(self, *args, officers_qs, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["officers"].queryset = officers_qs


class CompleteStepForm(TextForm):
    place = forms.CharField(label=_("place"), max_length=255, required=False)
    note = forms.CharField(label=_("record"), required=False, widget=forms.Textarea(attrs={"rows": 5}))
    documents = forms.CharField(label=_("documents made (one per line)"), required=False,
                                widget=forms.Textarea(attrs={"rows": 3}))
    # Notification step only (the view drops it elsewhere): the party's
    # periods count from the day the notice was served.
    served_on = forms.DateField(label=_("served on"), required=False, widget=IsoDateInput())
    at = moment_field(_("completed at"))

    def __init__(self, *args, step_code: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        if step_code != "notification":
            del self.fields["served_on"]

    def document_list(self) -> list[dict]:
        return [{"kind": line.strip()} for line in self.cleaned_data.get("documents", "").splitlines() if line.strip()]


class ExemptionForm(TextForm):
    reason = forms.CharField(label=_("reason AV could not be recorded"), widget=forms.Textarea(attrs={"rows": 3}))


class HearingRequestForm(TextForm):
    requested_on = forms.DateField(label=_("hearing requested on"), widget=IsoDateInput())


class HearingWaiverForm(TextForm):
    waived_on = forms.DateField(label=_("hearing waived on"), widget=IsoDateInput())


class HearingNoticeForm(TextForm):
    """听证通知书 (penalty law art. 64 (2)): the day it was served on the
    party and the hearing day it names."""
    notified_on = forms.DateField(label=_("hearing notice served on"), widget=IsoDateInput())
    hearing_on = forms.DateField(label=_("hearing scheduled on"), widget=IsoDateInput())


class PreservationForm(TextForm):
    """证据先行登记保存 (penalty law art. 56)."""
    preserved_on = forms.DateField(label=_("preserved on"), widget=IsoDateInput())
    items = forms.CharField(label=_("items preserved"), widget=forms.Textarea(attrs={"rows": 3}))


class PreservationHandledForm(TextForm):
    handled_on = forms.DateField(label=_("handled on"), widget=IsoDateInput())
    handling = forms.CharField(label=_("handling decision"), max_length=500)


class ProposalForm(TextForm):
    categories = forms.MultipleChoiceField(label=_("proposed penalty categories"), choices=(), required=False,
                                           widget=forms.CheckboxSelectMultiple)
    fine_yuan = forms.DecimalField(label=_("fine (yuan)"), required=False, min_value=Decimal(0), decimal_places=2, max_digits=14)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["categories"].choices = [(c.value, c.value) for c in PenaltyCategory]


class TerminateForm(TextForm):
    reason = forms.CharField(label=_("reason for termination"), widget=forms.Textarea(attrs={"rows": 3}))
    on = forms.DateField(label=_("terminated on"), widget=IsoDateInput())


class SingleOfficerChoiceField(IdModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.name}（{obj.certificate_number}）"


class AssignOfficerForm(TextForm):
    officer = SingleOfficerChoiceField(label=_("officer"), queryset=None)
    role = forms.ChoiceField(label=_("role"), choices=OfficerRole.choices, initial=OfficerRole.ASSIST)

    def __init__(self, *args, officers_qs, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["officer"].queryset = officers_qs


def yuan_to_fen(value) -> int | None:
    return None if value is None else int((Decimal(value) * 100).to_integral_value())
