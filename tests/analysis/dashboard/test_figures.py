"""Each registered figure, from a known results document and dataset: valid SVG with the
title and the marks its numbers call for."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
from django.utils import translation

from analysis.dashboard.charts import FIGURES, render_figure
from analysis.dashboard.views import PAGES
from tests.analysis.dashboard.known_results import RESULTS, dataset

SVG = "{http://www.w3.org/2000/svg}"


def _draw(name: str) -> ET.Element:
    with translation.override("en"):
        svg = render_figure(name, RESULTS, dataset())
    root = ET.fromstring(svg)  # noqa: S314 - our own output
    assert root.tag == f"{SVG}svg"
    return root


def _all(root: ET.Element, tag: str) -> list[ET.Element]:
    return root.findall(f".//{SVG}{tag}")


def _texts(root: ET.Element) -> list[str]:
    return [t.text or "" for t in _all(root, "text")]


def _title(root: ET.Element) -> str:
    return _texts(root)[0]


def test_every_registered_figure_is_tested_and_every_page_figure_registered():
    assert set(FIGURES) == set(CHECKS)
    assert {name for _title, _tables, figures in PAGES.values() for name in figures} <= set(FIGURES)


def _trajectory(root):
    assert _title(root) == "VAS spasm frequency by visit (mean, 95 % CI)"
    assert len(_all(root, "polyline")) == 2  # one line per arm
    assert len(_all(root, "circle")) == 8  # 2 arms × 4 visits
    assert {"V0", "V1", "V2", "V3", "mm", "standard therapy + vitamin B12"} <= set(_texts(root))


def _scatter(visit: str, points: int):
    def check(root):
        assert _title(root) == f"Serum B12 and spasm frequency at {visit}"
        assert len(_all(root, "circle")) == points  # randomised patients with both values
        assert {"B12, pmol/L", "VAS frequency, mm"} <= set(_texts(root))

    return check


def _heatmap(root):
    assert _title(root) == "Correlations of changes V0→V3 (* BH-adjusted p < 0.05)"
    assert len(_all(root, "rect")) == 1 + 3 * 3  # the background and one cell per pair
    labels = _texts(root)
    assert labels.count("-0.50*") == 2 and labels.count("0.10") == 2  # symmetric, starred
    assert labels.count("1.00") == 3  # the diagonal


def _forest(root):
    assert _title(root) == "Arm difference in VAS frequency at V3 by subgroup"
    assert len(_all(root, "rect")) == 1 + 3  # the background and one square per subgroup
    assert {"All patients", "B12 deficient (< 148 pmol/L)", "B12 not deficient"} <= set(
        _texts(root)
    )
    assert any(line.get("stroke-dasharray") for line in _all(root, "line"))  # the zero line


def _consort(root):
    assert _title(root) == "CONSORT flow"
    assert len(_all(root, "rect")) == 1 + 1 + 3 + 1 + 2  # background, then the boxes by row
    texts = _texts(root)
    for line in ("Screened: 70", "Not eligible: 5", "Declined: 3", "Enrolled: 62"):
        assert line in texts
    assert "Randomised: 59" in texts
    assert "allocated 29, received 29" in texts and "analysed 28" in texts
    assert "lost 1, discontinued 2" in texts


def _enrolment(root):
    assert _title(root) == "Patients randomised over time (target 62)"
    (line,) = _all(root, "polyline")
    assert len(line.get("points").split()) == 3  # three patients randomised
    texts = _texts(root)
    assert "2026-01-02" in texts and "2026-02-01" in texts and "62" in texts


CHECKS = {
    "trajectory": _trajectory,
    "scatter_v0": _scatter("V0", 3),
    "scatter_v3": _scatter("V3", 2),
    "heatmap": _heatmap,
    "forest": _forest,
    "consort": _consort,
    "enrolment": _enrolment,
}


@pytest.mark.parametrize("name", sorted(CHECKS))
def test_figure_is_valid_svg_with_its_marks(name):
    CHECKS[name](_draw(name))


def test_an_unknown_figure_is_a_key_error():
    with pytest.raises(KeyError):
        render_figure("pie", RESULTS, dataset())
