from __future__ import annotations

import csv
import json

from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from analysis import figures, tables
from analysis.labels import arm_labels, table_labels
from analysis.services import current_results
from hfs_ecrf.access import requires

PAGES = {
    "overview": (gettext_lazy("Overview"), ["baseline", "completeness"], ["consort", "enrolment"]),
    "primary": (
        gettext_lazy("Primary outcome"),
        ["primary", "percent_change", "responders", "missing_data"],
        [],
    ),
    "secondary": (gettext_lazy("Secondary outcomes"), ["secondary"], []),
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
TARGET_PATIENTS = 62


def _figure(name: str, results: dict, dataset) -> str:
    arms = arm_labels()
    if name == "trajectory":
        return figures.trajectory(
            results["mixed_model"]["trajectory"],
            # xgettext:no-python-format
            title=_("VAS spasm frequency by visit (mean, 95 % CI)"),
            y_label="mm",
            arm_labels=arms,
        )
    if name in {"scatter_v0", "scatter_v3"}:
        visit = name[-2:].upper()
        wide = dataset.wide(["b12_pmol_l", "vas_frequency"])
        rows = wide[wide.arm.notna()].dropna(
            subset=[f"b12_pmol_l__{visit}", f"vas_frequency__{visit}"]
        )
        points = [
            (float(r[f"b12_pmol_l__{visit}"]), float(r[f"vas_frequency__{visit}"]), r.arm)
            for _, r in rows.iterrows()
        ]
        return figures.scatter(
            points,
            title=_("Serum B12 and spasm frequency at %(visit)s") % {"visit": visit},
            x_label="B12, pmol/L",
            y_label=_("VAS frequency, mm"),
            arm_labels=arms,
        )
    if name == "heatmap":
        matrix = results["correlation_matrix"]
        return figures.heatmap(
            matrix["variables"],
            matrix["cells"],
            title=_("Correlations of changes V0→V3 (* BH-adjusted p < 0.05)"),
        )
    if name == "forest":
        sub = results["subgroups"]
        t = table_labels()
        rows = [
            (t[k], sub[k]["estimate"], sub[k]["ci_low"], sub[k]["ci_high"])
            for k in ("overall", "deficient", "not_deficient")
        ]
        return figures.forest(
            rows,
            title=_("Arm difference in VAS frequency at V3 by subgroup"),
            # xgettext:no-python-format
            x_label=_("b12 − standard, mm (95 % CI)"),
        )
    if name == "consort":
        c = results["consort"]
        arms_row = [
            _(
                "%(arm)s\nallocated %(a)s, received %(r)s\nlost %(l)s, discontinued %(d)s\n"
                "analysed %(n)s"
            )
            % {
                "arm": arms[arm],
                "a": c["arms"][arm]["allocated"],
                "r": c["arms"][arm]["received_allocation"],
                "l": c["arms"][arm]["lost_to_follow_up"],
                "d": sum(c["arms"][arm]["discontinued"].values()),
                "n": c["arms"][arm]["analysed"],
            }
            for arm in ("standard", "b12")
        ]
        boxes = [
            [_("Screened: %(n)s") % {"n": c["screened"]}],
            [
                _("Not eligible: %(n)s") % {"n": c["not_eligible"]},
                _("Declined: %(n)s") % {"n": c["declined"]},
                _("Enrolled: %(n)s") % {"n": c["enrolled"]},
            ],
            [_("Randomised: %(n)s") % {"n": c["randomised"]}],
            arms_row,
        ]
        return figures.flow_diagram(boxes, title=_("CONSORT flow"))
    if name == "enrolment":
        dates = [str(d) for d in dataset.patients.randomised_on.dropna()]
        return figures.cumulative(
            dates,
            target=TARGET_PATIENTS,
            title=_("Patients randomised over time (target 62)"),
            y_label=_("patients"),
        )
    raise Http404


@require_GET
@requires("view_analysis")
def dashboard(request: HttpRequest, page: str = "overview") -> HttpResponse:
    if page not in PAGES:
        raise Http404
    title, table_names, figure_names = PAGES[page]
    results, dataset = current_results()
    all_tables = tables.build(results, table_labels())
    return render(
        request,
        "analysis/dashboard.html",
        {
            "page": page,
            "title": title,
            "pages": [(k, v[0]) for k, v in PAGES.items()],
            "tables": [all_tables[name] for name in table_names],
            "figures": [
                (name, mark_safe(_figure(name, results, dataset)))  # noqa: S308 - our SVG, text escaped
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
def figure_svg(request: HttpRequest, name: str) -> HttpResponse:
    results, dataset = current_results()
    response = HttpResponse(_figure(name, results, dataset), content_type="image/svg+xml")
    response["Content-Disposition"] = f'attachment; filename="{name}.svg"'
    return response


@require_GET
@requires("view_analysis")
def table_csv(request: HttpRequest, name: str) -> HttpResponse:
    results, _dataset = current_results()
    table = tables.build(results, table_labels()).get(name)
    if table is None:
        raise Http404
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
