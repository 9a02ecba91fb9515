"""Each registered figure, from a known results document and dataset, drawn by matplotlib: valid
SVG with the title, labels and marks its numbers call for, and a PNG; a section that carries
only a note draws "Not available: <note>"."""

from __future__ import annotations

import copy
import xml.etree.ElementTree as ET

import pytest
from django.utils import translation

from analysis.dashboard.charts import FIGURES, build_figure, render_figure
from analysis.dashboard.figures import nice_ticks, tick_text
from analysis.dashboard.views import PAGES
from tests.analysis.dashboard.known_results import RESULTS, dataset

SVG = "{http://www.w3.org/2000/svg}"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _draw(name: str, results=RESULTS, language: str = "en") -> ET.Element:
    with translation.override(language):
        svg = render_figure(name, results, dataset())
    assert svg.startswith("<svg")
    root = ET.fromstring(svg)  # noqa: S314 - our own output
    assert root.tag == f"{SVG}svg"
    return root


def _texts(root: ET.Element) -> list[str]:
    """Every line of text in the figure (text stays text: svg.fonttype 'none')."""
    return [
        line
        for t in root.iter(f"{SVG}text")
        for line in "".join(t.itertext()).split("\n")
        if line.strip()
    ]


def _text(root: ET.Element) -> str:
    return " ".join(_texts(root))


def _ids(root: ET.Element) -> list[str]:
    return [e.get("id") for e in root.iter() if e.get("id")]


def _group(root: ET.Element, gid: str) -> ET.Element:
    (found,) = [e for e in root.iter() if e.get("id") == gid]
    return found


def test_every_registered_figure_is_tested_and_every_page_figure_registered():
    assert set(FIGURES) == set(CHECKS)
    assert {name for _title, _tables, figures in PAGES.values() for name in figures} <= set(FIGURES)


def _trajectory(root):
    assert "VAS spasm frequency by visit (mean, 95 % CI)" in _text(root)
    assert {"mean-standard-0", "mean-b12-0"} <= set(_ids(root))  # one line with CIs per arm
    assert {"V0", "V1", "V2", "V3", "VAS spasm frequency, mm"} <= set(_texts(root))
    assert "standard therapy + vitamin B12" in _texts(root)


def _outcomes(root):
    assert "Outcomes by visit and arm (mean, 95 % CI)" in _text(root)
    # one panel per outcome in the dataset, titled from the data dictionary
    assert {"VAS spasm frequency", "vitamin B12 (pmol/L)"} <= set(_texts(root))
    assert {"mean-b12-0", "mean-b12-1"} <= set(_ids(root))
    assert len(_ids(root)) == len(set(_ids(root)))  # ids unique: the figures sit in one page


def _scatter(visit: str, points: dict[str, int]):
    def check(root):
        assert f"at {visit}, with the least-squares line per arm" in _text(root)
        for arm, count in points.items():
            marks = _group(root, f"points-{arm}").iter(f"{SVG}use")
            assert len(list(marks)) == count  # randomised patients with both values
        assert ("fit-b12" in _ids(root)) == (points.get("b12", 0) >= 2)  # a line needs two
        assert {"vitamin B12 (pmol/L)", "VAS spasm frequency, mm"} <= set(_texts(root))

    return check


def _heatmap(root):
    assert "p < 0.05 after Benjamini–Hochberg adjustment" in _text(root)
    labels = _texts(root)
    assert labels.count("\u22120.50*") == 2 and labels.count("0.10") == 2  # symmetric, starred
    assert labels.count("1.00") == 3  # the diagonal
    assert "Pearson r" in labels


def _forest(root):
    assert "Arm difference in VAS spasm frequency at V3 by subgroup" in _text(root)
    assert "interaction p = 0.080" in _texts(root)
    assert {"All patients", "B12 deficient (< 148 pmol/L)", "B12 not deficient"} <= set(
        _texts(root)
    )
    assert {"estimate-0", "estimate-1", "estimate-2", "no-difference"} <= set(_ids(root))
    assert "\u2190 favours B12" in _texts(root) and "favours standard \u2192" in _texts(root)


def _consort(root):
    assert "CONSORT flow diagram" in _texts(root)
    text = _text(root)
    for line in (
        "Assessed for eligibility (n = 70)",
        "Not eligible (n = 5)",
        "Eligible, declined to take part (n = 3)",
        "Enrolled (n = 62)",
        "Enrolled, not randomised (n = 3)",
        "Randomised (n = 59)",
        "Allocated (n = 29)",
        "Analysed (n = 28)",
        "Excluded from analysis (n = 1)",
        "Lost to follow-up (n = 1)",
        "Discontinued (n = 2)",
        "• adverse event: 1",
        "• pregnant or breastfeeding: 2",
        "• does not meet: aged 18 or over: 4",
    ):
        assert line in text
    ids = set(_ids(root))
    # every arrow drawn is an edge of the flow; Randomised does not lead to Declined
    assert {"edge-screened-declined", "edge-enrolled-randomised"} <= ids
    assert {"edge-randomised-allocated-b12", "edge-follow_up-b12-excluded-b12"} <= ids
    assert not any(i.startswith("edge-randomised-declined") for i in ids)
    assert "node-declined" in ids and "node-excluded-standard" in ids


def _enrolment(root):
    assert "Patients randomised over time (target 62)" in _texts(root)
    line = _group(root, "randomised")
    path = line.find(f".//{SVG}path").get("d")
    assert path.count("L") == 2 * 3  # a step up at each of three randomisation dates
    assert "target: 62 patients" in _texts(root)
    assert "Feb 2026" in _texts(root)  # calendar dates on the axis


CHECKS = {
    "trajectory": _trajectory,
    "outcomes": _outcomes,
    "scatter_v0": _scatter("V0", {"standard": 1, "b12": 2}),
    "scatter_v3": _scatter("V3", {"standard": 1, "b12": 1}),
    "heatmap": _heatmap,
    "forest": _forest,
    "consort": _consort,
    "enrolment": _enrolment,
}


@pytest.mark.parametrize("name", sorted(CHECKS))
def test_figure_is_valid_svg_with_its_marks(name):
    CHECKS[name](_draw(name))


@pytest.mark.parametrize("name", sorted(CHECKS))
def test_figure_is_also_a_png(name):
    with translation.override("en"):
        png = render_figure(name, RESULTS, dataset(), "png")
    assert png[:8] == PNG_MAGIC
    assert len(png) > 20_000  # a drawn figure, not an empty canvas


def test_figures_speak_russian():
    root = _draw("consort", language="ru")
    assert "Рандомизировано (n = 59)" in _text(root)
    assert "в пользу B12" in _text(_draw("forest", language="ru"))
    assert "Фев 2026" in _texts(_draw("enrolment", language="ru"))


def test_an_unknown_figure_or_format_is_a_key_error():
    with pytest.raises(KeyError):
        render_figure("pie", RESULTS, dataset())
    with pytest.raises(KeyError):
        render_figure("forest", RESULTS, dataset(), "gif")


NOTE = "This section could not be computed on the current data."


@pytest.mark.parametrize(
    ("name", "section", "body"),
    [
        ("consort", "consort", {"note": NOTE}),
        ("trajectory", "mixed_model", {"note": NOTE}),
        ("forest", "subgroups", {"note": NOTE}),
        ("heatmap", "correlation_matrix", {"note": NOTE}),
        ("forest", "subgroups", {"note": NOTE, "error": "ValueError: x", "overall": None}),
    ],
)
def test_a_section_with_only_a_note_draws_not_available(name, section, body):
    results = copy.deepcopy(RESULTS)
    results[section] = body
    root = _draw(name, results)
    assert f"Not available: {NOTE}" in " ".join(_text(root).split())
    with translation.override("en"):
        assert render_figure(name, results, dataset(), "png")[:8] == PNG_MAGIC


def test_a_missing_section_draws_not_available():
    results = {k: v for k, v in RESULTS.items() if k != "subgroups"}
    assert "Not available: not in the results document" in _text(_draw("forest", results))


def test_a_note_figure_is_built_without_error():
    with translation.override("en"):
        figure = build_figure("consort", {"consort": {"note": NOTE}}, None)
    assert figure.get_axes()


@pytest.mark.parametrize(
    ("low", "high", "expected"),
    [
        (0, 63, [0, 20, 40, 60]),
        (-8.704, 12.6, [-5, 0, 5, 10]),
        (0, 1, [0, 0.2, 0.4, 0.6, 0.8, 1]),
        (-22, 1, [-20, -15, -10, -5, 0]),
        (120, 300, [150, 200, 250, 300]),
    ],
)
def test_ticks_are_round_numbers(low, high, expected):
    assert nice_ticks(low, high) == pytest.approx(expected)


def test_tick_text_has_no_float_noise_and_a_real_minus():
    assert [tick_text(v) for v in (0.30000000000000004, -5.0, 25.0, 0.0, -0.0, 2.5)] == [
        "0.3",
        "\u22125",
        "25",
        "0",
        "0",
        "2.5",
    ]
