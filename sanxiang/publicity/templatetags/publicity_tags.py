from decimal import Decimal

from django import template
from django.utils.html import escape
from django.utils.safestring import mark_safe

from sanxiang.publicity import search

register = template.Library()


@register.filter
def yuan(fen):
    """Integer fen → '12,000.50 元' (exact)."""
    if fen in (None, ""):
        return ""
    value = Decimal(int(fen)) / 100
    return f"{value:,.2f} 元"


@register.filter
def get(mapping, key):
    return (mapping or {}).get(key, "")


@register.filter
def highlight(text, q):
    """The text escaped, each word of the search `q` in <mark> (公示-16)."""
    return search.highlight(text, q or "")


@register.filter
def snippet(public, q):
    """An excerpt of the decision around the first matched word, highlighted."""
    return search.snippet(public, q or "")


@register.simple_tag
def region_options(regions, selected):
    """<option>s of the search form's region list (code, name, is_county),
    counties indented, the chosen one selected: built in one pass, as the
    page carries every region of a province."""
    selected = selected or ""
    return mark_safe("".join(
        f'<option value="{escape(code)}"{" selected" if code == selected else ""}>{"　" if county else ""}{escape(name)}</option>'
        for code, name, county in regions))


@register.simple_tag
def agency_options(agencies, selected):
    """<option>s of the search form's agency list (id, name), the chosen
    one selected."""
    selected = selected or ""
    return mark_safe("".join(
        f'<option value="{pk}"{" selected" if str(pk) == selected else ""}>{escape(name)}</option>'
        for pk, name in agencies))
