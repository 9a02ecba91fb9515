"""The record status grid's cells as HTML built once per page: each (state, form) badge is
rendered once by ``state_badge``, each form's link and each patient's link is built from one
``reverse()`` per page (``hfs_ecrf.lists.UrlPattern``), and each cell's opening (its
out-of-window mark) is written here, instead of template tags, ``{% url %}`` and lookups per
cell (350 cells a page)."""

from __future__ import annotations

from html import escape
from typing import Any

from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext

from assessments.templatetags.study_states import form_title, state_badge
from hfs_ecrf.lists import UrlPattern

_CELL = '<td class="status-cell ">\n        '
_CELL_OUT_OF_WINDOW = '<td class="status-cell state-out_of_window">\n        '


def with_badges(grid: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Adds to every row of ``selectors.visit_grid`` its patient's ``url`` and to every cell
    ``badges`` (its forms' badges, each a link to the form once the visit exists, each followed
    by a space, as the template wrote them) and ``html``: the cell's opening tag, its
    out-of-window mark and its badges (the template adds the cell's open queries and closes it)."""
    crf_url = UrlPattern("assessments:crf", 3)
    patient_url = UrlPattern("monitoring:patient_detail", 1)
    out_of_window = _CELL_OUT_OF_WINDOW + format_html(
        '<span class="visually-hidden">{}</span>', gettext("out of window")
    )
    badges: dict[tuple[str, str], str] = {}
    for row in grid:
        study_id = row["patient"].study_id
        row["url"] = patient_url(study_id)
        for cell in row["cells"]:
            parts = []
            for code, state in cell["forms"]:
                badge = badges.get((state, code))
                if badge is None:
                    badge = badges[state, code] = state_badge(state, form_title(code))
                if cell["visit"] is not None:
                    href = escape(crf_url(study_id, cell["spec"].code, code))
                    parts.append(f'<a href="{href}" class="text-decoration-none">{badge}</a> ')
                else:
                    parts.append(f"{badge} ")
            # badges from format_html, URLs escaped (html.escape, as Django's escape does)
            cell["badges"] = SafeString("".join(parts))
            opening = (
                out_of_window
                if cell["visit"] is not None and cell["visit"].out_of_window
                else _CELL
            )
            cell["html"] = SafeString(opening + cell["badges"])
    return grid
