"""Each registered table builder, on a known results document: the exact rows and columns."""

from __future__ import annotations

import copy
import re

import pytest
from django.utils import translation

from analysis.dashboard.display import count_of, percent
from analysis.dashboard.labels import table_labels
from analysis.dashboard.tables import TABLES, build_table
from analysis.dashboard.views import PAGES
from tests.analysis.dashboard.known_results import ARM_N, RESULTS

BOTH = "arm:standard 30, arm:b12 29"


class Keys(dict):
    """Labels that are their own keys, so headers and row labels can be read in the test."""

    def __missing__(self, key: str) -> str:
        return key


EXPECTED = {
    "primary": (
        "mITT",
        ARM_N,
        ["analysis", "estimate", "ci", "p", "n"],
        [
            ["ancova", "-9.12", "-14.50 to -3.75", "< 0.001", BOTH],
            ["ancova_hc3", "—", "—", "—", ""],
            ["per_protocol", "-8.00", "-13.00 to -3.00", "0.002", BOTH],
            ["log_ancova", "-21.50 %", "-30.25 % to -11.00 %", "0.010", BOTH],
            ["welch", "-10.00", "-16.00 to -4.00", "0.004", BOTH],
            ["mann_whitney", "—", "—", "0.003", BOTH],
            ["hedges_g", "-0.85", "-1.40 to -0.30", "—", ""],
        ],
    ),
    "percent_change": (
        "mITT",
        ARM_N,
        ["arm", "mean_pct", "SD", "ci", "pct_of_means", "n", "zero_baseline"],
        [
            ["standard", "-14.0 %", "20.0 %", "-21.5 % to -6.5 %", "-13.9 %", 30, 0],
            ["b12", "-32.0 %", "18.0 %", "-39.0 % to -25.0 %", "-32.1 %", 29, 1],
        ],
    ),
    "secondary": (
        "mITT",
        None,
        ["outcome", "family", "standard: change", "b12: change", "estimate", "ci", "p"]
        + ["p_adjusted"],
        [
            [
                "var:hads_a",
                "code:key_secondary",
                "-1.00 (-2.00 to 0.00), n=30",
                "—",
                "-0.50",
                "-1.50 to 0.50",
                "0.300",
                "0.600 (code:holm)",
            ]
        ],
    ),
    "responders": (
        "mITT",
        ARM_N,
        ["analysis", "estimate", "ci", "p"],
        [
            ["standard: 6/30", "20.0 %", "", ""],
            ["b12: 14/29", "48.3 %", "", ""],
            ["risk_difference", "28.3 %", "5.0 % to 50.0 %", ""],
            ["fisher", "", "", "0.027"],
            ["odds_ratio", "3.73", "1.20 to 11.60", "0.020"],
        ],
    ),
    "correlations": (
        "ITT",
        None,
        ["timepoint", "group", "method", "r", "ci", "p", "n"],
        [["V0", "code:pooled", "code:pearson", "-0.457", "-0.630 to -0.240", "< 0.001", 59]],
    ),
    "regression": (
        "ITT, complete cases",
        None,
        ["outcome", "term", "β", "ci", "p", "std_beta", "VIF", "R²", "r2_adj", "n"],
        [
            [
                "var:vas_intensity: code:change",
                "var:treat",
                "-7.250",
                "-12.000 to -2.500",
                "0.004",
                "-0.333",
                "1.05",
            ]
            + ["0.301", "0.251", 55],
            [
                "var:vas_intensity: code:change",
                "var:age",
                "0.500",
                "0.200 to 0.800",
                "0.500",
                "0.100",
                "—",
            ]
            + ["0.301", "0.251", 55],
        ],
    ),
    "mixed": (
        "ITT",
        ARM_N,
        ["visit", "estimate", "ci", "p"],
        [
            ["V1", "-3.00", "-6.00 to 0.00", "0.050"],
            ["V3", "-9.00", "-13.00 to -5.00", "< 0.001"],
        ],
    ),
    "subgroups": (
        "mITT",
        ARM_N,
        ["subgroup", "estimate", "ci", "p", "n"],
        [
            ["overall", "-9.00", "-14.00 to -4.00", "0.001", BOTH],
            ["deficient", "-14.00", "-22.00 to -6.00", "0.002", "arm:standard 12, arm:b12 11"],
            ["not_deficient", "-5.00", "-11.00 to 1.00", "0.100", "arm:standard 18, arm:b12 18"],
            ["interaction", "-9.00", "-19.00 to 1.00", "0.080", ""],
        ],
    ),
    "missing_data": (
        "ITT",
        ARM_N,
        ["analysis", "estimate", "ci", "p"],
        [
            ["complete_case", "-9.00", "-14.00 to -4.00", "0.001"],
            ["multiple_imputation (m=20, seed=7)", "-8.50", "-13.90 to -3.10", "0.003"],
        ],
    ),
    "completeness": (
        "ITT",
        None,
        ["arm", "visit", "expected", "missing"],
        [["standard", "V3", 31, 1], ["b12", "V3", 31, 2]],
    ),
    "safety": (
        "safety",
        ARM_N,
        ["patients_with", "standard", "b12"],
        [
            ["any_ae", "3/30 (10.0 %)", "4/29 (13.8 %)"],
            ["serious_ae", "0/30 (0.0 %)", "1/29 (3.4 %)"],
            ["related_ae", "1/30 (3.3 %)", "0/29 (0.0 %)"],
            ["severity: mild", "3/30 (10.0 %)", "3/29 (10.3 %)"],
        ],
    ),
    "baseline": (
        "ITT",
        ARM_N,
        ["variable", "standard", "b12", "SMD"],
        [
            [
                "var:age",
                "52.0 ± 10.0; 52.0 (45.0–59.0); n=30",
                "50.0 ± 10.0; 50.0 (43.0–57.0); n=29",
                "0.204",
            ],
            ["level:sex:female", "20/30 (66.7 %)", "19/29 (65.5 %)", "—"],
        ],
    ),
}


def test_every_registered_table_is_tested_and_every_page_table_registered():
    assert set(TABLES) == set(EXPECTED)
    assert {name for _title, tables, _figures in PAGES.values() for name in tables} <= set(TABLES)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_table_builder_gives_the_expected_rows_and_columns(name):
    population, n, header, rows = EXPECTED[name]
    table = build_table(name, RESULTS, Keys())
    assert (table.name, table.title) == (name, name)
    assert (table.population, table.n) == (population, n)
    assert table.header == header
    assert table.rows == rows
    assert all(len(row) == len(header) for row in table.rows)


RAW = re.compile(r"\b[a-z0-9]+_[a-z0-9_]+\b|__V\d| = (True|False)|\b(pooled|pearson|spearman)\b")


def test_no_table_shows_a_raw_name_from_the_data():
    """With the real labels, variables, levels, groups, methods and families are shown by
    their labels from the data dictionary (b12_pmol_l__V0, diabetes = False, partial_arm...)."""
    results = copy.deepcopy(RESULTS)
    results["baseline"]["rows"] += [
        {**results["baseline"]["rows"][1], "variable": "diabetes", "level": "False"},
        {**results["baseline"]["rows"][1], "variable": "b12_deficient_baseline", "level": "1.0"},
        {**results["baseline"]["rows"][0], "variable": "b12_pmol_l__V0"},
    ]
    results["correlations"].append({**results["correlations"][0], "group": "partial_arm"})
    with translation.override("en"):
        labels = table_labels()
        tables = {name: build_table(name, results, labels) for name in TABLES}
    for table in tables.values():
        for row in [table.header, *table.rows]:
            for cell in row:
                assert not RAW.search(str(cell)), (table.name, cell)
    baseline = [row[0] for row in tables["baseline"].rows]
    assert baseline == [
        "age at consent (years)",
        "sex: female",
        "diabetes: no",
        "B12 deficient at baseline: yes",
        "vitamin B12 (pmol/L), V0",
    ]
    assert tables["correlations"].rows[-1][1] == "all patients, adjusted for arm (partial)"
    assert tables["secondary"].rows[0][:2] == ["HADS anxiety", "key secondary"]
    assert tables["secondary"].rows[0][-1] == "0.600 (Holm)"
    assert tables["regression"].rows[0][:2] == [
        "VAS spasm intensity: change V0→V3",
        "vitamin B12 arm",
    ]
    assert tables["primary"].rows[0][-1] == "standard 30, B12 29"


def test_percentages_follow_one_rule():
    assert percent(48.2759) == "48.3 %"
    assert percent(0.28276, proportion=True) == "28.3 %"
    assert percent(None) == "—"
    assert count_of({"n": 3, "of": 30, "percent": 10.0}) == "3/30 (10.0 %)"
