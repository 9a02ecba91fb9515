"""The dashboard's tables, built from the results document (the same numbers as the JSON).
No Django imports; labels are passed in by the caller, already translated.

``TABLES`` maps each table's name to a small builder: ``builder(results, t)`` gives the
table's population, n, header and rows; its title is ``t[name]``. Names from the data are never
shown raw: ``t["var:<variable>"]`` is a variable's label, ``t["level:<variable>:<level>"]`` a
category's, ``t["code:<code>"]`` that of a group, method, family or adjustment method.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from analysis.dashboard.display import ci, count_of, estimate_ci_n, n_by_arm, num, percent
from analysis.stats.common import ARMS, format_p

Results = dict[str, Any]
Labels = dict[str, str]


@dataclass
class Body:
    population: str
    n: Any
    header: list[str]
    rows: list[list[Any]] = field(default_factory=list)


@dataclass
class Table:
    name: str
    title: str
    population: str
    n: Any
    header: list[str]
    rows: list[list[Any]] = field(default_factory=list)


TABLES: dict[str, Callable[[Results, Labels], Body]] = {}


def table(name: str) -> Callable:
    """Register the decorated function as the builder of table ``name``."""

    def register(builder: Callable[[Results, Labels], Body]) -> Callable[[Results, Labels], Body]:
        TABLES[name] = builder
        return builder

    return register


def build_table(name: str, results: Results, t: Labels) -> Table:
    """Table ``name``; ``t`` maps label keys to translated labels."""
    body = TABLES[name](results, t)
    return Table(name, t[name], body.population, body.n, body.header, body.rows)


def _estimate_row(
    label: str, obj: dict[str, Any] | None, digits: int = 2, *, as_percent: bool = False
) -> list[str]:
    """label, estimate, CI, p (``as_percent``: estimate and CI are percentages)."""
    obj = obj or {}
    show = (lambda v: percent(v, digits)) if as_percent else (lambda v: num(v, digits))
    estimate = obj.get("estimate")
    return [
        label,
        show(estimate) if estimate is not None else num(None),
        ci(obj, show=show),
        format_p(obj.get("p")),
    ]


def _arms(t: Labels) -> dict[str, str]:
    return {arm: t[f"arm:{arm}"] for arm in ARMS}


@table("primary")
def _primary(results: Results, t: Labels) -> Body:
    primary = results["primary"]
    analyses = {
        "ancova": primary["ancova"],
        "ancova_hc3": primary["ancova"].get("hc3"),
        "per_protocol": primary["per_protocol"],
        "log_ancova": primary["log_ancova"],
        **{key: primary["sensitivity"][key] for key in ("welch", "mann_whitney", "hedges_g")},
    }
    rows = [
        [
            *_estimate_row(t.get(key, key), obj, as_percent=key == "log_ancova"),
            n_by_arm((obj or {}).get("n"), _arms(t)),
        ]
        for key, obj in analyses.items()
    ]
    header = [t["analysis"], t["estimate"], t["ci"], "p", "n"]
    return Body(primary["population"], primary["n"], header, rows)


@table("percent_change")
def _percent_change(results: Results, t: Labels) -> Body:
    primary = results["primary"]
    rows = []
    for arm in ARMS:
        pc = primary["percent_change"][arm]
        pm = primary["percent_change_of_means"][arm]
        rows.append(
            [
                t[arm],
                percent(pc["mean"]),
                percent(pc["sd"]),
                ci(pc, show=percent),
                percent(pm["estimate"]),
                pc["n"],
                pc["zero_baseline"],
            ]
        )
    header = [t["arm"], t["mean_pct"], "SD", t["ci"], t["pct_of_means"], "n", t["zero_baseline"]]
    return Body(primary["population"], primary["n"], header, rows)


@table("secondary")
def _secondary(results: Results, t: Labels) -> Body:
    header = [
        t["outcome"],
        t["family"],
        f"{t['standard']}: {t['change']}",
        f"{t['b12']}: {t['change']}",
        t["estimate"],
        t["ci"],
        "p",
        t["p_adjusted"],
    ]
    rows = [
        [
            t[f"var:{r['outcome']}"],
            t[f"code:{r['family']}"],
            estimate_ci_n((r.get("change") or {}).get("standard")),
            estimate_ci_n((r.get("change") or {}).get("b12")),
            *_estimate_row("", r.get("ancova"))[1:],
            _adjusted_p(r, t),
        ]
        for r in results["secondary"]
    ]
    return Body("mITT", None, header, rows)


def _adjusted_p(row: dict[str, Any], t: Labels) -> str:
    """The adjusted p with its method named ('0.600 (Holm)')."""
    p = format_p(row.get("p_adjusted"))
    method = row.get("adjustment")
    return f"{p} ({t[f'code:{method}']})" if method and row.get("p_adjusted") is not None else p


@table("responders")
def _responders(results: Results, t: Labels) -> Body:
    resp = results["responders"]
    per_arm = resp["per_arm"]
    rows = [
        [
            f"{t[arm]}: {per_arm[arm]['responders']}/{per_arm[arm]['n']}",
            percent(per_arm[arm]["percent"]),
            "",
            "",
        ]
        for arm in ARMS
    ]
    risk_difference = {
        k: None if v is None else 100 * v
        for k, v in (resp["risk_difference"] or {}).items()
        if k in ("estimate", "ci_low", "ci_high")
    }
    rows += [
        [*_estimate_row(t["risk_difference"], risk_difference, 1, as_percent=True)[:3], ""],
        [t["fisher"], "", "", format_p(resp["fisher"]["p"])],
        _estimate_row(t["odds_ratio"], resp["odds_ratio"]),
    ]
    header = [t["analysis"], t["estimate"], t["ci"], "p"]
    return Body(resp["population"], resp["n"], header, rows)


@table("correlations")
def _correlations(results: Results, t: Labels) -> Body:
    rows = [
        [
            t.get(f"code:{c['timepoint']}", c["timepoint"]),
            t[f"code:{c['group']}"],
            t[f"code:{c['method']}"],
            num(c["r"], 3),
            ci(c, 3),
            format_p(c["p"]),
            c["n"],
        ]
        for c in results["correlations"]
    ]
    header = [t["timepoint"], t["group"], t["method"], "r", t["ci"], "p", "n"]
    return Body("ITT", None, header, rows)


@table("regression")
def _regression(results: Results, t: Labels) -> Body:
    rows = [
        [
            f"{t['var:' + model['variable']]}: {t['code:change']}" if model.get("variable") else "",
            *_estimate_row(t[f"var:{term['term']}"], term, 3),
            num(term["std_estimate"], 3),
            num(term["vif"]),
            num(model["r2"], 3),
            num(model["r2_adj"], 3),
            model["n"],
        ]
        for model in results["regression"]
        for term in model["terms"]
    ]
    header = [t["outcome"], t["term"], "β", t["ci"], "p", t["std_beta"], "VIF", "R²"]
    return Body("ITT, complete cases", None, [*header, t["r2_adj"], "n"], rows)


@table("mixed")
def _mixed(results: Results, t: Labels) -> Body:
    mixed = results["mixed_model"]
    rows = [_estimate_row(r["visit"], r) for r in mixed.get("by_visit", [])]
    header = [t["visit"], t["estimate"], t["ci"], "p"]
    return Body(mixed["population"], mixed["n"], header, rows)


@table("subgroups")
def _subgroups(results: Results, t: Labels) -> Body:
    sub = results["subgroups"]
    rows = [
        [*_estimate_row(t[key], sub[key]), n_by_arm(sub[key].get("n"), _arms(t))]
        for key in ("overall", "deficient", "not_deficient", "interaction")
    ]
    header = [t["subgroup"], t["estimate"], t["ci"], "p", "n"]
    return Body(sub["population"], sub["n"], header, rows)


@table("missing_data")
def _missing_data(results: Results, t: Labels) -> Body:
    mi = results["missing_data"]
    imputation = mi["multiple_imputation"]
    imputation_label = (
        f"{t['multiple_imputation']} (m={imputation['m']}, seed={imputation['seed']})"
    )
    rows = [
        _estimate_row(t["complete_case"], mi["complete_case"]),
        _estimate_row(imputation_label, imputation),
    ]
    header = [t["analysis"], t["estimate"], t["ci"], "p"]
    return Body(mi["population"], mi["n"], header, rows)


@table("completeness")
def _completeness(results: Results, t: Labels) -> Body:
    rows = [
        [t.get(r["arm"], r["arm"]), r["visit"], r["expected"], r["missing"]]
        for r in results["missing_data"]["missing_by_visit"]
    ]
    return Body("ITT", None, [t["arm"], t["visit"], t["expected"], t["missing"]], rows)


@table("safety")
def _safety(results: Results, t: Labels) -> Body:
    safety = results["safety"]
    counts = {
        t["any_ae"]: safety["any"],
        t["serious_ae"]: safety["serious"],
        t["related_ae"]: safety["related"],
        **{
            f"{t['severity']}: {t.get(severity, severity)}": by_arm
            for severity, by_arm in safety["by_severity"].items()
        },
    }
    rows = [[label, *[count_of(by_arm[arm]) for arm in ARMS]] for label, by_arm in counts.items()]
    header = [t["patients_with"], t["standard"], t["b12"]]
    return Body(safety["population"], safety["n"], header, rows)


@table("baseline")
def _baseline(results: Results, t: Labels) -> Body:
    baseline = results["baseline"]
    rows = [
        [
            t[f"level:{row['variable']}:{row['level']}"]
            if row.get("level") is not None
            else t[f"var:{row['variable']}"],
            *[_baseline_cell(row["type"], row["arms"][arm]) for arm in ARMS],
            num(row["smd"], 3),
        ]
        for row in baseline["rows"]
    ]
    header = [t["variable"], t["standard"], t["b12"], "SMD"]
    return Body(baseline["population"], baseline["n"], header, rows)


def _baseline_cell(kind: str, c: dict[str, Any]) -> str:
    if kind != "continuous":
        return count_of(c)
    return (
        f"{num(c['mean'], 1)} ± {num(c['sd'], 1)}; "
        f"{num(c['median'], 1)} ({num(c['q1'], 1)}–{num(c['q3'], 1)}); n={c['n']}"
    )
