from django import forms
from django.utils.translation import gettext_lazy as _


class NormalisedTextMixin:
    """Every text a form accepts goes through the intake normalisation
    (``sanxiang.core.text``; issue 9, section 2): NFC, bidi controls removed,
    control characters other than newline and tab refused with an error on
    the field. ``text_kinds`` names the fields that are names or numbers
    (``{"party_name": "name", "party_credit_code": "number"}``): they also
    lose zero-width characters, numbers get ASCII digits. Fields in
    ``party_name_fields`` must contain a letter or CJK character. Password
    fields are left exactly as typed. What was changed is kept in
    ``form.normalised`` ({field: [change, ...]}) for the caller to record."""

    text_kinds: dict[str, str] = {}
    party_name_fields: tuple[str, ...] = ()

    def full_clean(self):
        super().full_clean()
        self.normalised = {}
        if not self.is_bound or not hasattr(self, "cleaned_data"):
            return
        from sanxiang.core import text as textnorm

        for name, value in list(self.cleaned_data.items()):
            field = self.fields.get(name)
            if not isinstance(value, str) or field is None or isinstance(field.widget, forms.PasswordInput):
                continue
            try:
                result = textnorm.normalise(value, kind=self.text_kinds.get(name, textnorm.TEXT),
                                            strip=getattr(field, "strip", True))
            except textnorm.TextError as exc:
                self.add_error(name, f"{field.label or name}{exc.message}")
                continue
            if name in self.party_name_fields and result.text and not textnorm.has_letter(result.text):
                self.add_error(name, f"{field.label or name}{textnorm.NAME_WITHOUT_LETTER[1]}")
                continue
            changes = [c for c in result.changes if c != "line_endings"]
            if changes:
                self.normalised[name] = changes
            self.cleaned_data[name] = result.text


class TextForm(NormalisedTextMixin, forms.Form):
    """The base of the project's forms: see NormalisedTextMixin."""


class IsoDateInput(forms.DateInput):
    """An ``<input type="date">``. Browsers read its value only as ISO
    ``YYYY-MM-DD``; Django would format it for the active language (zh-hans:
    2026/09/02), which the browser shows as an empty field. Use this widget
    for every date field of the project."""

    input_type = "date"

    def __init__(self, attrs=None, format=None):
        super().__init__(attrs, format=format or "%Y-%m-%d")


class LoginForm(forms.Form):
    username = forms.CharField(label=_("Username"), max_length=150, widget=forms.TextInput(attrs={"autocomplete": "username", "autofocus": True}))
    password = forms.CharField(label=_("Password"), widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}))
    otp_token = forms.CharField(
        label=_("Authenticator code"), required=False, max_length=8,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "pattern": "[0-9]*"}),
        help_text=_("Six digits from your authenticator app (legal-office and administrator accounts)."),
    )


class TotpConfirmForm(forms.Form):
    otp_token = forms.CharField(
        label=_("Authenticator code"), max_length=8,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "pattern": "[0-9]*", "autofocus": True}),
    )


class PasswordChangeForm(forms.Form):
    old_password = forms.CharField(label=_("Current password"), strip=False,
                                   widget=forms.PasswordInput(attrs={"autocomplete": "current-password", "autofocus": True}))
    new_password = forms.CharField(label=_("New password"), strip=False,
                                   widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
                                   help_text=_("At least 10 characters, not like your username or name, not a common or all-digit password."))
    new_password2 = forms.CharField(label=_("New password again"), strip=False,
                                    widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}))

    def clean(self):
        data = super().clean()
        if data.get("new_password") and data.get("new_password2") and data["new_password"] != data["new_password2"]:
            self.add_error("new_password2", _("The two new passwords differ."))
        return data


class FormTextMiddleware:
    """The clean step every form post shares, including views that read
    ``request.POST`` directly (withdrawal reasons, opinions, notes …): each
    posted text field goes through ``core.text`` (free-text rules: NFC,
    bidi controls removed); a field with a control character other than
    newline and tab is answered 400 naming the field, before any view or
    service sees it. Password fields and the CSRF token are left as sent;
    the API (JSON, its own intake) is not concerned. Names and numbers get
    their stricter rules from the form that knows them (TextForm)."""

    SKIPPED = ("password", "csrfmiddlewaretoken")

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        if request.method != "POST" or request.path.startswith("/api/"):
            return None
        content_type = request.content_type or ""
        if content_type not in ("application/x-www-form-urlencoded", "multipart/form-data"):
            return None
        from sanxiang.core import text as textnorm
        from sanxiang.core.http import bad_input_response
        from sanxiang.core.parsing import BadInput

        cleaned, changed = request.POST.copy(), False
        for key, values in request.POST.lists():
            if any(part in key for part in self.SKIPPED):
                continue
            out = []
            for value in values:
                try:
                    result = textnorm.normalise(value, strip=False)
                except textnorm.TextError as exc:
                    return bad_input_response(request, BadInput(field=key, code=exc.code, message=f"“{key}”{exc.message}"))
                out.append(result.text)
                changed = changed or result.text != value
            cleaned.setlist(key, out)
        if changed:
            cleaned._mutable = False
            request.POST = cleaned
        return None
