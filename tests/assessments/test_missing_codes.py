"""Missing-data codes (issue 11.7): a field left empty on purpose carries ND, UNK, NA or REF;
its value must then be empty; a coded required field counts as answered for "complete"; the
scores treat a coded item as missing (it is empty)."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from assessments.instruments import hads
from assessments.models import Hads, MissingCode, SpasmAssessment, Visit
from assessments.models.base import CODE_NEEDS_EMPTY_VALUE
from assessments.services import REQUIRED_TO_COMPLETE, crf_save
from tests import factories
from tests.assessments.test_crf_entry import _post, _url
from tests.conftest import login
from tests.factories import SPASM


@pytest.fixture
def patient(alice, site_a):
    factories.allocation_list(["SMR"])
    return factories.randomised(site_a, alice)


def _spasm(patient, **values) -> SpasmAssessment:
    visit = Visit.objects.get(patient=patient, code="V0")
    return SpasmAssessment(visit=visit, **{**{k: int(v) for k, v in SPASM.items()}, **values})


def test_the_codes_are_those_of_redcap_with_translated_labels():
    assert MissingCode.values == ["ND", "UNK", "NA", "REF"]
    with translation.override("ru"):
        assert str(MissingCode.REFUSED.label) != "refused"
        assert str(MissingCode.NOT_DONE.label) != "not done"


def test_a_required_field_with_a_code_lets_the_form_be_complete(alice, patient):
    uncoded = _spasm(patient, vas_frequency=None)
    with pytest.raises(ValidationError) as refused:
        crf_save(form=uncoded, user=alice, action="complete")
    assert str(REQUIRED_TO_COMPLETE) in refused.value.message_dict["vas_frequency"]
    assert not SpasmAssessment.objects.exists()

    coded = _spasm(patient, vas_frequency=None, missing_codes={"vas_frequency": "UNK"})
    crf_save(form=coded, user=alice, action="complete")
    stored = SpasmAssessment.objects.get()
    assert stored.status == "complete"
    assert stored.vas_frequency is None
    assert stored.missing_codes == {"vas_frequency": "UNK"}
    assert stored.history.latest().missing_codes == {"vas_frequency": "UNK"}  # audited


def test_a_code_next_to_a_value_is_refused_naming_the_field_and_saves_nothing(alice, patient):
    form = _spasm(patient, missing_codes={"vas_intensity": "ND"})  # vas_intensity has a value
    with pytest.raises(ValidationError) as refused:
        crf_save(form=form, user=alice, action="draft")
    assert refused.value.message_dict["vas_intensity"] == [
        str(CODE_NEEDS_EMPTY_VALUE) % {"code": "ND"}
    ]
    assert not SpasmAssessment.objects.exists()


def test_an_unknown_code_or_a_field_that_cannot_be_coded_is_refused(alice, patient):
    with pytest.raises(ValidationError) as refused:
        crf_save(
            form=_spasm(patient, vas_frequency=None, missing_codes={"vas_frequency": "XX"}),
            user=alice,
        )
    message = " ".join(refused.value.message_dict["missing_codes"])
    assert "XX" in message and "ND, UNK, NA, REF" in message
    with pytest.raises(ValidationError) as refused:  # a derived score is never entered
        crf_save(form=_spasm(patient, missing_codes={"jankovic_total": "NA"}), user=alice)
    assert "jankovic_total" in " ".join(refused.value.message_dict["missing_codes"])
    assert not SpasmAssessment.objects.exists()


def test_the_web_form_offers_a_code_next_to_each_field_and_saves_it(alice, patient):
    client = login(alice)
    page = client.get(_url(patient, "V0", "spasm")).content.decode()
    assert 'name="vas_frequency_code"' in page and 'value="REF"' in page
    data = {**SPASM, "vas_frequency": "", "vas_frequency_code": "REF"}
    response = _post(client, patient, "V0", "spasm", data, action="complete")
    assert response.status_code == 302
    stored = SpasmAssessment.objects.get()
    assert (stored.status, stored.missing_codes) == ("complete", {"vas_frequency": "REF"})
    # shown again when the form is reopened
    page = client.get(response.url).content.decode()
    assert 'value="REF" selected' in page


def test_the_web_form_refuses_a_value_with_a_code_with_a_clear_error(alice, patient):
    client = login(alice)
    data = {**SPASM, "vas_frequency_code": "NA"}
    response = _post(client, patient, "V0", "spasm", data, action="complete")
    assert response.status_code == 200
    assert response.context["form"].errors["vas_frequency"] == [
        str(CODE_NEEDS_EMPTY_VALUE) % {"code": "NA"}
    ]
    assert not SpasmAssessment.objects.exists()


def test_a_coded_item_counts_as_missing_for_the_half_rule(alice, patient):
    visit = Visit.objects.get(patient=patient, code="V0")
    answers = {f"q{i:02d}": 2 if i % 2 else 1 for i in range(1, 15)}
    coded_odd = ["q01", "q03", "q05"]  # 4 of 7 anxiety items left: still scored
    form = Hads(
        visit=visit,
        **{**answers, **dict.fromkeys(coded_odd)},
        missing_codes=dict.fromkeys(coded_odd, "REF"),
    )
    crf_save(form=form, user=alice, action="complete")
    form.refresh_from_db()
    assert form.status == "complete"
    answered = [answers[f"q{i:02d}"] for i in hads.ANXIETY_ITEMS if f"q{i:02d}" not in coded_odd]
    assert form.anxiety == pytest.approx(sum(answered) / len(answered) * 7)
    # one more coded item: 3 of 7 answered, below the half rule, so no anxiety score
    form.q07, form.missing_codes = None, {**form.missing_codes, "q07": "UNK"}
    crf_save(form=form, user=alice, action="complete", reason="item 7 refused")
    form.refresh_from_db()
    assert form.status == "complete" and form.anxiety is None
    assert form.depression is not None
