"""The record status grid's cells as HTML built once per page: each (state, form) badge is
rendered once by ``state_badge`` and each form's link is built from one ``reverse()`` per page
(``hfs_ecrf.lists.UrlPattern``), instead of a template tag and a ``{% url %}`` per badge."""

from __future__ import annotations

from html import escape
from typing import Any

from django.utils.safestring import SafeString

from assessments.templatetags.study_states import form_title, state_badge
from hfs_ecrf.lists import UrlPattern


def with_badges(grid: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Adds ``badges`` to every cell of ``selectors.visit_grid``: its forms' badges, each a link
    to the form once the visit exists, each followed by a space (as the template wrote them)."""
    crf_url = UrlPattern("assessments:crf", 3)
    badges: dict[tuple[str, str], str] = {}
    for row in grid:
        study_id = row["patient"].study_id
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
    return grid
