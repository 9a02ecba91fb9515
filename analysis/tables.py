"""The dashboard's tables, built from the results document (the same numbers as the JSON).
No Django imports; labels are passed in by the caller, already translated."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from analysis.stats.common import ARMS, format_p


@dataclass
class Table:
    name: str
    title: str
    population: str
    n: Any
    header: list[str]
    rows: list[list[Any]] = field(default_factory=list)


def _num(value: Any, digits: int = 2) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return str(int(value))
    if isinstance(value, int):
        return str(value)
    return f"{value:.{digits}f}"


def _ci(obj: dict[str, Any], digits: int = 2) -> str:
    if not obj or obj.get("ci_low") is None:
        return "—"
    return f"{_num(obj['ci_low'], digits)} to {_num(obj['ci_high'], digits)}"


def _n(n: Any) -> str:
    if isinstance(n, dict):
        return ", ".join(f"{arm} {n.get(arm, 0)}" for arm in ARMS)
    return "" if n is None else str(n)


def build(results: dict[str, Any], t: dict[str, str]) -> dict[str, Table]:
    """All tables; ``t`` maps label keys to translated labels."""
    tables: dict[str, Table] = {}
    primary = results["primary"]
    rows = []
    for key, obj in (
        ("ancova", primary["ancova"]),
        ("ancova_hc3", primary["ancova"].get("hc3")),
        ("per_protocol", primary["per_protocol"]),
        ("log_ancova", primary["log_ancova"]),
        ("welch", primary["sensitivity"]["welch"]),
        ("mann_whitney", primary["sensitivity"]["mann_whitney"]),
        ("hedges_g", primary["sensitivity"]["hedges_g"]),
    ):
        obj = obj or {}
        rows.append(
            [
                t.get(key, key),
                _num(obj.get("estimate")),
                _ci(obj),
                format_p(obj.get("p")),
                _n(obj.get("n")),
            ]
        )
    tables["primary"] = Table(
        "primary",
        t["primary"],
        primary["population"],
        primary["n"],
        [t["analysis"], t["estimate"], t["ci"], "p", "n"],
        rows,
    )
    pc_rows = []
    for arm in ARMS:
        pc = primary["percent_change"][arm]
        pm = primary["percent_change_of_means"][arm]
        pc_rows.append(
            [
                t[arm],
                _num(pc["mean"], 1),
                _num(pc["sd"], 1),
                _ci(pc, 1),
                _num(pm["estimate"], 1),
                pc["n"],
                pc["zero_baseline"],
            ]
        )
    tables["percent_change"] = Table(
        "percent_change",
        t["percent_change"],
        primary["population"],
        primary["n"],
        [t["arm"], t["mean_pct"], "SD", t["ci"], t["pct_of_means"], "n", t["zero_baseline"]],
        pc_rows,
    )
    tables["secondary"] = Table(
        "secondary",
        t["secondary"],
        "mITT",
        None,
        [
            t["outcome"],
            t["family"],
            f"{t['standard']}: {t['change']}",
            f"{t['b12']}: {t['change']}",
            t["estimate"],
            t["ci"],
            "p",
            t["p_adjusted"],
        ],
        [
            [
                r["outcome"],
                r["family"],
                _change(r["change"].get("standard")),
                _change(r["change"].get("b12")),
                _num(r["ancova"]["estimate"]),
                _ci(r["ancova"]),
                format_p(r["ancova"]["p"]),
                format_p(r["p_adjusted"]),
            ]
            for r in results["secondary"]
        ],
    )
    resp = results["responders"]
    tables["responders"] = Table(
        "responders",
        t["responders"],
        resp["population"],
        resp["n"],
        [t["analysis"], t["estimate"], t["ci"], "p"],
        [
            [
                f"{t[arm]}: {resp['per_arm'][arm]['responders']}/{resp['per_arm'][arm]['n']}",
                _num(resp["per_arm"][arm]["percent"], 1),
                "",
                "",
            ]
            for arm in ARMS
        ]
        + [
            [
                t["risk_difference"],
                _num(resp["risk_difference"]["estimate"], 3),
                _ci(resp["risk_difference"], 3),
                "",
            ],
            [t["fisher"], "", "", format_p(resp["fisher"]["p"])],
            [
                t["odds_ratio"],
                _num(resp["odds_ratio"]["estimate"]),
                _ci(resp["odds_ratio"]),
                format_p(resp["odds_ratio"]["p"]),
            ],
        ],
    )
    tables["correlations"] = Table(
        "correlations",
        t["correlations"],
        "ITT",
        None,
        [t["timepoint"], t["group"], t["method"], "r", t["ci"], "p", "n"],
        [
            [
                c["timepoint"],
                c["group"],
                c["method"],
                _num(c["r"], 3),
                _ci(c, 3),
                format_p(c["p"]),
                c["n"],
            ]
            for c in results["correlations"]
        ],
    )
    reg_rows = []
    for model in results["regression"]:
        for term in model["terms"]:
            reg_rows.append(
                [
                    model["outcome"],
                    term["term"],
                    _num(term["estimate"], 3),
                    _ci(term, 3),
                    format_p(term["p"]),
                    _num(term["std_estimate"], 3),
                    _num(term["vif"]),
                    _num(model["r2"], 3),
                    _num(model["r2_adj"], 3),
                    model["n"],
                ]
            )
    tables["regression"] = Table(
        "regression",
        t["regression"],
        "ITT, complete cases",
        None,
        [t["outcome"], t["term"], "β", t["ci"], "p", t["std_beta"], "VIF", "R²", t["r2_adj"], "n"],
        reg_rows,
    )
    mixed = results["mixed_model"]
    tables["mixed"] = Table(
        "mixed",
        t["mixed"],
        mixed["population"],
        mixed["n"],
        [t["visit"], t["estimate"], t["ci"], "p"],
        [
            [r["visit"], _num(r["estimate"]), _ci(r), format_p(r["p"])]
            for r in mixed.get("by_visit", [])
        ],
    )
    sub = results["subgroups"]
    tables["subgroups"] = Table(
        "subgroups",
        t["subgroups"],
        sub["population"],
        sub["n"],
        [t["subgroup"], t["estimate"], t["ci"], "p", "n"],
        [
            [
                t[key],
                _num(sub[key]["estimate"]),
                _ci(sub[key]),
                format_p(sub[key]["p"]),
                _n(sub[key].get("n")),
            ]
            for key in ("overall", "deficient", "not_deficient", "interaction")
        ],
    )
    mi = results["missing_data"]
    tables["missing_data"] = Table(
        "missing_data",
        t["missing_data"],
        mi["population"],
        mi["n"],
        [t["analysis"], t["estimate"], t["ci"], "p"],
        [
            [
                t["complete_case"],
                _num(mi["complete_case"]["estimate"]),
                _ci(mi["complete_case"]),
                format_p(mi["complete_case"]["p"]),
            ],
            [
                f"{t['multiple_imputation']} (m={mi['multiple_imputation']['m']}, "
                f"seed={mi['multiple_imputation']['seed']})",
                _num(mi["multiple_imputation"]["estimate"]),
                _ci(mi["multiple_imputation"]),
                format_p(mi["multiple_imputation"]["p"]),
            ],
        ],
    )
    tables["completeness"] = Table(
        "completeness",
        t["completeness"],
        "ITT",
        None,
        [t["arm"], t["visit"], t["expected"], t["missing"]],
        [
            [t.get(r["arm"], r["arm"]), r["visit"], r["expected"], r["missing"]]
            for r in mi["missing_by_visit"]
        ],
    )
    safety = results["safety"]
    safety_rows = []
    for key, label in (
        ("any", t["any_ae"]),
        ("serious", t["serious_ae"]),
        ("related", t["related_ae"]),
    ):
        safety_rows.append([label, *[_count(safety[key][arm]) for arm in ARMS]])
    for severity, counts in safety["by_severity"].items():
        safety_rows.append(
            [
                f"{t['severity']}: {t.get(severity, severity)}",
                *[_count(counts[arm]) for arm in ARMS],
            ]
        )
    tables["safety"] = Table(
        "safety",
        t["safety"],
        safety["population"],
        safety["n"],
        [t["patients_with"], t["standard"], t["b12"]],
        safety_rows,
    )
    base_rows = []
    for row in results["baseline"]["rows"]:
        label = row["variable"] + (f" = {row['level']}" if row.get("level") else "")
        cells = []
        for arm in ARMS:
            c = row["arms"][arm]
            if row["type"] == "continuous":
                cells.append(
                    f"{_num(c['mean'], 1)} ± {_num(c['sd'], 1)}; "
                    f"{_num(c['median'], 1)} ({_num(c['q1'], 1)}–{_num(c['q3'], 1)}); "
                    f"n={c['n']}"
                )
            else:
                cells.append(f"{c['n']}/{c['of']} ({_num(c['percent'], 1)} %)")
        base_rows.append([label, *cells, _num(row["smd"], 3)])
    tables["baseline"] = Table(
        "baseline",
        t["baseline"],
        results["baseline"]["population"],
        results["baseline"]["n"],
        [t["variable"], t["standard"], t["b12"], "SMD"],
        base_rows,
    )
    return tables


def _change(obj: dict[str, Any] | None) -> str:
    if not obj or obj.get("estimate") is None:
        return "—"
    return f"{_num(obj['estimate'])} ({_ci(obj)}), n={obj['n']}"


def _count(cell: dict[str, Any]) -> str:
    return f"{cell['n']}/{cell['of']} ({_num(cell['percent'], 1)} %)"
