"""The dashboards read the stored results (``analysis.services.results_state``): a request never
computes the plan. Until the first results are stored, a page says they are being computed; while
newer data are being analysed, the pages show the latest results and say on which data version
and when they were computed."""

from __future__ import annotations

import csv
import json
import secrets
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils.safestring import mark_safe
from django.utils.translation import get_language, gettext, gettext_lazy
from django.views.decorators.http import require_GET

from analysis.dashboard import tables
from analysis.dashboard.charts import FIGURES, FORMATS
from analysis.dashboard.kept import kept, results_json_bytes
from analysis.dashboard.labels import table_labels
from analysis.dashboard.lockstate import results_lock_json, results_note
from analysis.dashboard.notes import page_notes, sections_of
from analysis.models import AnalysisResult
from analysis.services import ResultsState, results_state, stored_figures
from hfs_ecrf.access import requires

PAGES = {
    "overview": (gettext_lazy("Overview"), ["baseline", "completeness"], ["consort", "enrolment"]),
    "primary": (
        gettext_lazy("Primary outcome"),
        ["primary", "percent_change", "responders", "missing_data"],
        [],
    ),
    "secondary": (gettext_lazy("Secondary outcomes"), ["secondary"], ["outcomes"]),
    "correlations": (
        gettext_lazy("Correlations"),
        ["correlations"],
        ["scatter_v0", "scatter_v3", "heatmap"],
    ),
    "regression": (gettext_lazy("Regression"), ["regression"], []),
    "mixed": (gettext_lazy("Mixed model"), ["mixed"], ["trajectory"]),
    "subgroups": (gettext_lazy("Subgroups"), ["subgroups"], ["forest"]),
    "safety": (gettext_lazy("Safety"), ["safety"], []),
}
# label keys of the sections whose name is not a table's
SECTION_LABELS = {"mixed_model": "mixed", "correlation_matrix": "correlations"}
NOT_COMPUTED = gettext_lazy(
    "This table could not be built from the stored results; see the note above."
)
FIGURE_NOT_DRAWN = gettext_lazy("This figure could not be drawn from the stored results.")


# where the kept content goes in the rendered page (an HTML comment: no escaped text of the
# layout can contain it)
_SLOT = mark_safe(f"<!--kept-analysis-content-{secrets.token_hex(8)}-->")  # noqa: S308 - a constant
_SLOT_BYTES = _SLOT.encode()


def _language() -> str:
    return (get_language() or "ru").split("-")[0]


def _computing(request: HttpRequest, state: ResultsState, title: Any, page: str) -> HttpResponse:
    """The page shown before any results are stored (the background task is computing them)."""
    context = {
        "page": page,
        "title": title,
        "pages": [(k, v[0]) for k, v in PAGES.items()],
        "data_version": state.data_version,
        **_note(state),
    }
    return render(request, "analysis/computing.html", context)


def _note(state: ResultsState) -> dict[str, str]:
    kind, text = results_note(state)
    return {"results_note_kind": kind, "results_note": text}


def _status(state: ResultsState, data_cut: str) -> dict[str, Any]:
    """The live part of a page: which results, on which data version, and whether newer data
    are being analysed (read on every request, never kept)."""
    result = state.result
    return {
        "data_version": result.data_version,
        "computed_at": result.computed_at,
        "current_version": state.data_version,
        "stale": state.stale,
        "data_cut": data_cut,
        "sha": result.dataset_sha256,
        **_note(state),
    }


def _notes(results: dict[str, Any], sections: list[str], labels: dict[str, str]) -> list[dict]:
    def place(path: str) -> str:
        return ": ".join(labels.get(SECTION_LABELS.get(p, p), p) for p in path.split(": "))

    return [
        {"text": gettext(note.text), "where": [place(w) for w in note.where], "failed": note.failed}
        for note in page_notes(results, sections)
    ]


def _table(name: str, results: dict[str, Any], labels: dict[str, str]) -> tables.Table:
    """The table, or, if the stored section lacks what it needs, an empty table with a note."""
    try:
        return tables.build_table(name, results, labels)
    except (KeyError, TypeError, AttributeError, IndexError):
        return tables.Table(name, labels[name], "", None, [str(NOT_COMPUTED)])


def _content(result: AnalysisResult, page: str) -> tuple[bytes, str]:
    """The part of ``page`` built from the stored ``result`` alone, in the active language: the
    notes, figures and tables (HTML, encoded), and the data cut (so the kept page needs no
    document)."""
    _title, table_names, figure_names = PAGES[page]
    results = result.document
    labels = table_labels()
    drawn = stored_figures(result, figure_names, _language(), skip="png")
    figures = []
    for name in figure_names:
        stored = drawn.get(name)
        svg = stored.svg if stored is not None else ""
        figures.append((name, mark_safe(svg) if svg else "", FIGURE_NOT_DRAWN))  # noqa: S308 - our SVG
    html = render_to_string(
        "analysis/_dashboard_content.html",
        {
            "tables": [_table(name, results, labels) for name in table_names],
            "figures": figures,
            "notes": _notes(results, sections_of(table_names, figure_names), labels),
            "data_cut": results["data_cut"],
        },
    )
    return html.encode(), results["data_cut"]


@require_GET
@requires("view_analysis")
def dashboard(request: HttpRequest, page: str = "overview") -> HttpResponse:
    if page not in PAGES:
        raise Http404
    title = PAGES[page][0]
    state = results_state()
    if state.result is None:
        return _computing(request, state, title, page)
    result = state.result
    content, data_cut = kept(result, f"page:{page}:{_language()}", lambda: _content(result, page))
    response = render(
        request,
        "analysis/dashboard.html",
        {
            "page": page,
            "title": title,
            "pages": [(k, v[0]) for k, v in PAGES.items()],
            "content": _SLOT,
            **_status(state, data_cut),
        },
    )
    # The kept content goes into the rendered layout as bytes: passed through the template it
    # would be copied a few times over (~17 ms for the 3 MB of the correlations page's figures)
    response.content = response.content.replace(_SLOT_BYTES, content, 1)
    return response


@require_GET
@requires("view_analysis")
def results_json(request: HttpRequest) -> HttpResponse:
    """The stored document with the data version and time it was computed on."""
    state = results_state()
    if state.result is None:
        body = {
            "status": "computing",
            "detail": gettext("The results are being computed; try again in a minute."),
            "current_data_version": state.data_version,
            **results_lock_json(state),
        }
        return JsonResponse(body, status=503)
    result = state.result
    live = {
        "data_version": result.data_version,
        "computed_at": result.computed_at.isoformat(),
        "current_data_version": state.data_version,
        "newer_data_being_analysed": state.stale,
        "computation_seconds": round(result.duration_seconds, 3),
        **results_lock_json(state),
    }
    # the live fields, then the stored document (serialised once per result: kept.py)
    return HttpResponse(results_json_bytes(result, live), content_type="application/json")


@require_GET
@requires("view_analysis")
def figure_file(request: HttpRequest, name: str, fmt: str = "svg") -> HttpResponse:
    """Figure ``name`` as drawn in the background for the stored results, as SVG or PNG."""
    if name not in FIGURES or fmt not in FORMATS:
        raise Http404
    state = results_state()
    stored = None
    if state.result is not None:
        other = "png" if fmt == "svg" else "svg"  # read only the format asked for
        stored = stored_figures(state.result, [name], _language(), skip=other).get(name)
    content = (stored.svg if fmt == "svg" else bytes(stored.png)) if stored is not None else ""
    if not content:
        return HttpResponse(str(FIGURE_NOT_DRAWN), status=503, content_type="text/plain")
    response = HttpResponse(content, content_type=FORMATS[fmt])
    response["Content-Disposition"] = f'attachment; filename="{name}.{fmt}"'
    return response


@require_GET
@requires("view_analysis")
def table_csv(request: HttpRequest, name: str) -> HttpResponse:
    if name not in tables.TABLES:
        raise Http404
    state = results_state()
    if state.result is None:
        return HttpResponse(
            gettext("The results are being computed; try again in a minute."),
            status=503,
            content_type="text/plain",
        )
    results = state.result.document
    table = _table(name, results, table_labels())
    _kind, note = results_note(state)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}.csv"'
    writer = csv.writer(response)
    writer.writerow(
        [
            f"# {table.title}; population {table.population}; "
            f"n {json.dumps(table.n)}; data cut {results['data_cut']}; "
            f"data version {state.result.data_version}" + (f"; {note}" if note else "")
        ]
    )
    writer.writerow(table.header)
    writer.writerows(table.rows)
    return response
