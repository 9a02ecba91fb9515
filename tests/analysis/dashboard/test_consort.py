"""The CONSORT flow as data (before it is drawn): the right boxes joined by the right arrows,
and every split adds up, per arm allocated = analysed + excluded with a reason."""

from __future__ import annotations

import copy

import pytest

from analysis.dashboard.consort import OUTCOME_MISSING, consort_flow
from analysis.stats.common import ARMS
from tests.analysis.dashboard.known_results import RESULTS

CONSORT = RESULTS["consort"]


def test_the_boxes_are_joined_as_in_consort():
    flow = consort_flow(CONSORT)
    assert flow.edges == [
        ("screened", "not_eligible"),
        ("screened", "declined"),
        ("screened", "enrolled"),
        ("enrolled", "not_randomised"),
        ("enrolled", "randomised"),
        *[
            edge
            for arm in ARMS
            for edge in (
                ("randomised", f"allocated:{arm}"),
                (f"allocated:{arm}", f"follow_up:{arm}"),
                (f"follow_up:{arm}", f"analysed:{arm}"),
                (f"follow_up:{arm}", f"excluded:{arm}"),
            )
        ],
    ]
    assert [n.key for n in flow.children("randomised")] == ["allocated:standard", "allocated:b12"]
    assert all(a != "randomised" for a, b in flow.edges if b == "declined")
    keys = {n.key for n in flow.nodes}
    assert {a for a, _ in flow.edges} | {b for _, b in flow.edges} == keys  # nothing dangling


def _adds_up(flow) -> None:
    count = {n.key: n.count for n in flow.nodes}
    assert count["screened"] == sum(
        count[k] for k in ("not_eligible", "declined", "enrolled", "not_enrolled") if k in count
    )
    assert count["enrolled"] == count["randomised"] + count.get("not_randomised", 0)
    assert count["randomised"] == sum(count[f"allocated:{arm}"] for arm in ARMS)
    for arm in ARMS:
        excluded = flow.node(f"excluded:{arm}")
        assert count[f"allocated:{arm}"] == count[f"analysed:{arm}"] + sum(
            excluded.reasons.values()
        )
        assert excluded.count == sum(excluded.reasons.values())
        allocated = flow.node(f"allocated:{arm}")
        assert allocated.reasons["received"] + allocated.reasons["not_received"] == allocated.count
        follow_up = flow.node(f"follow_up:{arm}")
        assert follow_up.count == sum(follow_up.reasons.values())


def test_counts_add_up_and_the_unexplained_fall_under_the_mitt_rule():
    flow = consort_flow(CONSORT)
    _adds_up(flow)
    # the document gives no breakdown: allocated 29 − analysed 28 under the mITT rule
    assert flow.node("excluded:b12").reasons == {OUTCOME_MISSING: 1}
    assert flow.node("not_eligible").reasons == {"pregnancy": 2, "age_under_18": 4}
    assert flow.node("follow_up:standard").reasons == {
        "lost_to_follow_up": 1,
        "adverse_event": 1,
        "other": 1,
    }


def test_the_documents_breakdown_of_the_excluded_is_used_and_completed():
    consort = copy.deepcopy(CONSORT)
    consort["arms"]["standard"]["analysed"] = 26  # 4 not analysed
    consort["not_analysed"] = {
        "standard": {"lost_to_follow_up": 1, "adverse_event": 1, OUTCOME_MISSING: 2},
        "b12": {"withdrew_consent": 1},
    }
    flow = consort_flow(consort)
    _adds_up(flow)
    assert flow.node("excluded:standard").reasons == {
        "lost_to_follow_up": 1,
        "adverse_event": 1,
        OUTCOME_MISSING: 2,
    }
    assert flow.node("excluded:b12").reasons == {"withdrew_consent": 1}


@pytest.mark.parametrize("screened", [70, 75])
def test_screened_but_not_enrolled_yet_is_its_own_box(screened):
    consort = {**CONSORT, "screened": screened}
    flow = consort_flow(consort)
    _adds_up(flow)
    assert ("not_enrolled" in {n.key for n in flow.nodes}) == (screened == 75)


def test_a_section_without_counts_is_a_key_error():
    with pytest.raises(KeyError):
        consort_flow({"note": "could not be computed"})
