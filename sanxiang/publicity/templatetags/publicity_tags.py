import functools
from decimal import Decimal
from html import escape as html_escape

from django import template
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.utils.translation import gettext

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


@functools.lru_cache(maxsize=64)
def _options(rows: tuple, indent: bool) -> str:
    """The <option>s of (value, label[, is_county]) rows, none selected: a
    pure function of the rows, remembered for the last few lists (the same
    lists come back on nearly every search page), so a page with a
    province's regions and agencies escapes none of them again."""
    return "".join(f'<option value="{html_escape(str(row[0]))}">{"　" if indent and row[2] else ""}'
                   f'{html_escape(row[1])}</option>' for row in rows)


def _selecting(options: str, selected: str) -> str:
    """`options` with the one whose value is `selected` selected (values
    are unique in a list; none when no value is)."""
    if not selected:
        return options
    tag = f'<option value="{html_escape(selected)}">'
    return options.replace(tag, tag[:-1] + " selected>", 1)


@register.simple_tag
def region_options(regions, selected):
    """<option>s of the search form's region list (code, name, is_county),
    counties indented, the chosen one selected."""
    return mark_safe(_selecting(_options(tuple(regions), True), selected or ""))


@register.simple_tag
def agency_options(agencies, selected):
    """<option>s of the search form's agency list (id, name), the chosen
    one selected."""
    return mark_safe(_selecting(_options(tuple(agencies), False), selected or ""))


@register.simple_tag
def choice_options(choices, selected, shown="label"):
    """<option>s of a (value, label) choice list, the chosen one selected;
    `shown` "value" shows the value itself (penalty categories are their own
    Chinese names)."""
    selected = selected or ""
    return mark_safe("".join(
        f'<option value="{html_escape(str(value))}"{" selected" if value == selected else ""}>'
        f'{html_escape(str(value if shown == "value" else label))}</option>'
        for value, label in choices))


@register.simple_tag
def result_list(items, query=""):
    """The portal's list of decisions (search results, the home page's
    latest) as one <ul>, built in one pass: a page of twenty results as
    template nodes cost more than the search behind it (docs/performance.md).
    Per decision: the title and document number with the searched words
    marked, agency, decision date, main penalty category, fine, the lower
    platform it came from (if received through docking), and an excerpt
    around the first match; every text escaped (highlight and snippet
    escape theirs)."""
    q = query or ""
    if not items:
        return mark_safe(f'<ul class="results">\n  <li>{html_escape(gettext("No decision matches."))}</li>\n</ul>')
    fine_label = html_escape(gettext("Fine amount"))
    # One reverse for the page: the detail URL around a decision's id.
    url_head, _, url_tail = html_escape(reverse("publicity:detail", kwargs={"pk": 1})).rpartition("1")
    rows = []
    for d in items:
        meta = [str(search.highlight(d.doc_number, q)), html_escape(d.agency.name), d.decision_date.isoformat()]
        if d.main_category:
            meta.append(html_escape(d.main_category))
        if d.fine_fen:
            meta.append(f"{fine_label} {yuan(d.fine_fen)}")
        if d.received_from:  # on the row itself: no query (models.PublicDecision.received_from)
            meta.append(html_escape(gettext("Source: reported by the lower platform “%(name)s”") % {"name": d.received_from}))
        excerpt = search.snippet(d, q)
        rows.append(
            f'  <li class="result">\n'
            f'    <a href="{url_head}{int(d.pk)}{url_tail}"><strong>{search.highlight(d.title, q)}</strong></a>\n'
            f'    <div class="meta">{" · ".join(meta)}</div>\n'
            + (f'    <p class="snippet">{excerpt}</p>\n' if excerpt else "")
            + "  </li>\n")
    return mark_safe('<ul class="results">\n' + "".join(rows) + "</ul>")
