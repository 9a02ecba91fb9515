"""Instrument scoring against the published rules and test vector (reference/instruments.md)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from assessments.instruments import hads, hdrs, labs, rand36, spasm

VECTOR = [
    1,
    2,
    3,
    2,
    3,
    2,
    3,
    2,
    1,
    2,
    1,
    2,
    1,
    2,
    1,
    2,
    1,
    2,
    1,
    3,
    3,
    2,
    3,
    2,
    1,
    2,
    1,
    2,
    1,
    2,
    3,
    2,
    1,
    1,
    2,
    3,
]
ANSWERS = dict(enumerate(VECTOR, start=1))


def test_sf36_scales_of_the_published_vector():
    scales = rand36.sf36_scales(ANSWERS)
    expected = {
        "PF": 55,
        "RP": 50,
        "BP": 62,
        "GH": 55,
        "VT": 50,
        "SF": 37.5,
        "RE": 100 / 3,
        "MH": 40,
    }
    for name, value in expected.items():
        assert scales[name] == pytest.approx(value, abs=1e-9), name


def test_pcs_and_mcs_of_the_published_vector():
    pcs, mcs = rand36.composites(ANSWERS)
    assert pcs == pytest.approx(44.4028, abs=5e-5)
    assert mcs == pytest.approx(32.3110, abs=5e-5)


def test_rand_pain_differs_from_sf36_pain_on_purpose():
    assert rand36.rand_scales(ANSWERS)["bp"] == pytest.approx(67.5)


def test_rand_recoding_table():
    assert [rand36.recode(1, v) for v in range(1, 6)] == [100, 75, 50, 25, 0]
    assert [rand36.recode(3, v) for v in range(1, 4)] == [0, 50, 100]
    assert [rand36.recode(13, v) for v in (1, 2)] == [0, 100]
    assert [rand36.recode(21, v) for v in range(1, 7)] == pytest.approx([100, 80, 60, 40, 20, 0])
    assert [rand36.recode(24, v) for v in range(1, 7)] == pytest.approx([0, 20, 40, 60, 80, 100])
    assert [rand36.recode(32, v) for v in range(1, 6)] == [0, 25, 50, 75, 100]
    assert [rand36.recode(34, v) for v in range(1, 6)] == [100, 75, 50, 25, 0]


def test_a_rand_scale_is_the_mean_of_answered_items_above_the_half_rule():
    answers = {**ANSWERS, 3: None, 4: None, 5: None, 6: None, 7: None}  # 5 of 10 PF left
    pf_items = [ANSWERS[i] for i in range(8, 13)]
    expected = sum((v - 1) * 50 for v in pf_items) / 5
    assert rand36.rand_scales(answers)["pf"] == pytest.approx(expected)
    answers[8] = None  # 4 of 10: below the half rule
    assert rand36.rand_scales(answers)["pf"] is None


@pytest.mark.parametrize(
    "scale,items,minimum", [(s, items, m) for s, (items, m) in rand36.SCALES.items()]
)
def test_half_rule_thresholds(scale, items, minimum):
    kept = dict.fromkeys(items[:minimum], 1)
    assert rand36.rand_scales(kept)[scale] is not None
    fewer = dict.fromkeys(items[: minimum - 1], 1)
    assert rand36.rand_scales(fewer)[scale] is None


def test_bp_recalibration_when_one_pain_item_is_missing():
    only_21 = rand36.sf36_scales({21: 3})["BP"]
    assert only_21 == pytest.approx((4.2 + 4.2 - 2) / 10 * 100)
    only_22 = rand36.sf36_scales({22: 2})["BP"]
    assert only_22 == pytest.approx((4.75 + 4.75 - 2) / 10 * 100)
    assert rand36.sf36_scales({21: 1, 22: 1})["BP"] == pytest.approx(100)
    assert rand36.sf36_scales({21: 2, 22: 1})["BP"] == pytest.approx((5.4 + 5 - 2) * 10)


def test_composites_need_every_scale():
    assert rand36.composites({**ANSWERS, 36: None}) == (None, None)


def test_out_of_range_answers_are_refused():
    with pytest.raises(rand36.ItemOutOfRange, match="item 3"):
        rand36.rand_scales({3: 4})


def test_hads_subscales_and_bands():
    answers = {i: (3 if i % 2 else 1) for i in range(1, 15)}
    a, d = hads.scores(answers)
    assert (a, d) == (21, 7)
    assert (hads.band(a), hads.band(d)) == ("abnormal", "normal")
    assert [hads.band(x) for x in (7, 7.49, 7.5, 10, 10.5, 11)] == [
        "normal",
        "normal",
        "borderline",
        "borderline",
        "abnormal",
        "abnormal",
    ]


def test_hads_half_rule():
    answers = {1: 2, 3: 1, 5: 3, 7: 0}  # 4 of 7 anxiety items
    assert hads.subscale(answers, hads.ANXIETY_ITEMS) == pytest.approx(6 / 4 * 7)
    del answers[7]
    assert hads.subscale(answers, hads.ANXIETY_ITEMS) is None


def test_hdrs_total_and_bands():
    answers = dict.fromkeys(range(1, 18), 1)
    assert hdrs.total(answers) == 17
    assert hdrs.total({**answers, 5: None}) is None
    assert hdrs.total(answers, item16_not_assessed=True) is None
    assert [hdrs.band(x) for x in (0, 7, 8, 13, 14, 18, 19, 22, 23, 52)] == [
        "none",
        "none",
        "mild",
        "mild",
        "moderate",
        "moderate",
        "severe",
        "severe",
        "very_severe",
        "very_severe",
    ]
    with pytest.raises(ValueError, match="item 4"):
        hdrs.total({**answers, 4: 3})


def test_jankovic_total_and_spasm_rate():
    assert spasm.jankovic_total(3, 2) == 5
    assert spasm.jankovic_total(None, 2) is None
    assert spasm.spasm_rate(30, 5) == 6
    assert spasm.spasm_rate(30, 0) is None
    assert spasm.large_vas_change(80, 20) is True
    assert spasm.large_vas_change(80, 30) is False


def test_lab_conversions_and_b12_status():
    assert labs.to_canonical(labs.B12, Decimal("200"), "pg/mL") == Decimal("147.560")
    assert labs.to_canonical(labs.CORTISOL, Decimal("10"), "µg/dL") == Decimal("275.900")
    assert labs.to_canonical(labs.DOPAMINE, Decimal("100"), "pg/mL") == Decimal("652.800")
    assert labs.b12_status(Decimal("147.9")) == "deficient"
    assert labs.b12_status(148) == "borderline"
    assert labs.b12_status(221) == "borderline"
    assert labs.b12_status(221.5) == "normal"
    assert labs.hard_limit_error(labs.B12, Decimal("0")) is not None
    assert labs.hard_limit_error(labs.B12, Decimal("15001")) is not None
    assert labs.hard_limit_error(labs.DOPAMINE, Decimal("0")) is None
    assert labs.soft_limit_warning(labs.B12, Decimal("100")) is not None
    assert labs.fold_change(Decimal("100"), Decimal("300")) == 3
