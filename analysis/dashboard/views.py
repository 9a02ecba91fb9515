from __future__ import annotations

import csv
import json

from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from analysis.dashboard import tables
from analysis.dashboard.charts import FIGURES, FORMATS, render_figure
from analysis.dashboard.labels import table_labels
from analysis.services import current_results
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


@require_GET
@requires("view_analysis")
def dashboard(request: HttpRequest, page: str = "overview") -> HttpResponse:
    if page not in PAGES:
        raise Http404
    title, table_names, figure_names = PAGES[page]
    results, dataset = current_results()
    labels = table_labels()
    return render(
        request,
        "analysis/dashboard.html",
        {
            "page": page,
            "title": title,
            "pages": [(k, v[0]) for k, v in PAGES.items()],
            "tables": [tables.build_table(name, results, labels) for name in table_names],
            "figures": [
                (name, mark_safe(render_figure(name, results, dataset)))  # noqa: S308 - our SVG, text escaped
                for name in figure_names
            ],
            "data_cut": results["data_cut"],
            "sha": results["dataset_sha256"],
        },
    )


@require_GET
@requires("view_analysis")
def results_json(request: HttpRequest) -> JsonResponse:
    results, _dataset = current_results()
    return JsonResponse(results, json_dumps_params={"ensure_ascii": False, "indent": 1})


@require_GET
@requires("view_analysis")
def figure_file(request: HttpRequest, name: str, fmt: str = "svg") -> HttpResponse:
    """Figure ``name`` drawn on the server, as SVG or PNG."""
    if name not in FIGURES or fmt not in FORMATS:
        raise Http404
    results, dataset = current_results()
    response = HttpResponse(render_figure(name, results, dataset, fmt), content_type=FORMATS[fmt])
    response["Content-Disposition"] = f'attachment; filename="{name}.{fmt}"'
    return response


@require_GET
@requires("view_analysis")
def table_csv(request: HttpRequest, name: str) -> HttpResponse:
    if name not in tables.TABLES:
        raise Http404
    results, _dataset = current_results()
    table = tables.build_table(name, results, table_labels())
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}.csv"'
    writer = csv.writer(response)
    writer.writerow(
        [
            f"# {table.title}; population {table.population}; "
            f"n {json.dumps(table.n)}; data cut {results['data_cut']}"
        ]
    )
    writer.writerow(table.header)
    writer.writerows(table.rows)
    return response
