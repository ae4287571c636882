from django import forms
from django.utils.translation import gettext_lazy as _


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
