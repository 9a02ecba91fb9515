"""The forms' states of a page of visits are read by one query, whatever the number of forms."""

from __future__ import annotations

from assessments.models import CRF_MODELS, Visit
from assessments.selectors import form_states
from tests import factories
from tests.assessments.test_crf_entry import _post
from tests.conftest import login
from tests.factories import SPASM


def test_form_states_are_one_query_and_equal_each_forms_own_rows(
    alice, site_a, django_assert_num_queries
):
    factories.allocation_list(["SMR"])
    patients = [factories.randomised(site_a, alice, days_ago=40) for _ in range(2)]
    client = login(alice)
    _post(client, patients[0], "V0", "spasm", SPASM, action="save")  # a draft
    _post(client, patients[1], "V0", "spasm", SPASM, action="complete")
    visits = list(Visit.objects.filter(patient__in=patients))
    expected = {
        (visit_id, code): status
        for code, model in CRF_MODELS.items()
        for visit_id, status in model.objects.filter(visit__in=visits).values_list(
            "visit_id", "status"
        )
    }
    assert {code for _visit, code in expected} >= {"spasm", "labs"}
    assert set(expected.values()) >= {"draft", "complete"}
    with django_assert_num_queries(1):
        assert form_states(visits) == expected
    assert form_states([]) == {}
