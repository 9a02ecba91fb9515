"""Issue 12 point 3, the page side: a section that could not be computed, or estimates and rows
that carry a note, show a clear translated note on the dashboard pages, and the rest of every page
still works."""

from __future__ import annotations

from django.urls import reverse
from django.utils import timezone, translation

from analysis.dashboard.notes import page_notes
from analysis.models import AnalysisResult, StoredFigure
from analysis.services import draw_figures
from analysis.stats import notes
from hfs_ecrf.data_version import data_version_current
from tests.analysis.test_results_sections import _document, synthetic
from tests.conftest import login

PAGES = ("overview", "primary", "secondary", "correlations", "regression", "mixed", "subgroups")


def _failing_document():
    """A real document whose repeated-measures section raised (a corrupt V1 value), whose
    HADS-total regression model raised (no HADS anxiety score), and whose subgroups section is
    replaced by the bare ``{"note": ...}`` a section gets when even its skeleton fails."""
    dataset = synthetic()
    dataset.long["vas_frequency"] = dataset.long.vas_frequency.astype(object)
    dataset.long.loc[dataset.long.visit == "V1", "vas_frequency"] = "n/a"
    dataset.long = dataset.long.drop(columns="hads_a")
    doc = _document(dataset)
    assert doc["section_notes"] == {"mixed_model": notes.SECTION_FAILED}
    doc["subgroups"] = {"note": notes.SECTION_FAILED}
    doc["section_notes"]["subgroups"] = notes.SECTION_FAILED
    return doc, dataset


def _store(doc, dataset) -> AnalysisResult:
    result = AnalysisResult.objects.create(
        data_version=data_version_current(),
        computed_at=timezone.now(),
        dataset_sha256=doc["dataset_sha256"],
        document=doc,
        duration_seconds=1.0,
    )
    StoredFigure.objects.bulk_create(
        StoredFigure(result=result, **figure) for figure in draw_figures(doc, dataset)
    )
    return result


def test_page_notes_of_failed_sections_estimates_and_rows():
    doc, _dataset = _failing_document()
    mixed = page_notes(doc, ["mixed_model"])
    assert [(n.text, n.failed) for n in mixed] == [(notes.SECTION_FAILED, True)]
    regression = page_notes(doc, ["regression"])
    failed_row = next(n for n in regression if n.text == notes.SECTION_FAILED)
    assert failed_row.where == ["regression: hads_total change (V3 − V0)"]
    secondary = page_notes(doc, ["secondary"])
    no_data = next(n for n in secondary if n.text == notes.NO_DATA)
    assert any("hads_a" in w for w in no_data.where)
    assert page_notes(doc, ["subgroups"])[0].text == notes.SECTION_FAILED
    assert (
        page_notes({"primary": {"ancova": {"estimate": 1.0}}, "section_notes": {}}, ["primary"])
        == []
    )


def test_pages_show_the_translated_notes_and_the_rest_still_works(db, ivan):
    doc, dataset = _failing_document()
    _store(doc, dataset)
    client = login(ivan)
    with translation.override("ru"):
        section_failed_ru = translation.gettext(notes.SECTION_FAILED)
        no_data_ru = translation.gettext(notes.NO_DATA)
    assert section_failed_ru != notes.SECTION_FAILED
    for page in PAGES:
        response = client.get(reverse("analysis:page", args=[page]))
        assert response.status_code == 200, page
    mixed = client.get(reverse("analysis:page", args=["mixed"])).content.decode()
    assert 'data-testid="section-notes"' in mixed and section_failed_ru in mixed
    assert 'data-table="mixed"' in mixed  # the table is still there (its skeleton, no numbers)
    subgroups = client.get(reverse("analysis:page", args=["subgroups"])).content.decode()
    assert section_failed_ru in subgroups and 'data-table="subgroups"' in subgroups
    secondary = client.get(reverse("analysis:page", args=["secondary"])).content.decode()
    assert no_data_ru in secondary and "hads_a" in secondary
    regression = client.get(reverse("analysis:page", args=["regression"])).content.decode()
    assert section_failed_ru in regression and "hads_total" in regression
    assert 'data-table="regression"' in regression
    primary = client.get(reverse("analysis:page", args=["primary"])).content.decode()
    assert section_failed_ru not in primary  # the sections that computed carry no such note
    # English readers get the English note
    client.cookies["django_language"] = "en"
    en = client.get(reverse("analysis:page", args=["mixed"])).content.decode()
    assert notes.SECTION_FAILED in en
    assert client.get(reverse("analysis:table", args=["subgroups"])).status_code == 200
    assert client.get(reverse("analysis:results_json")).json()["section_notes"] == {
        "mixed_model": notes.SECTION_FAILED,
        "subgroups": notes.SECTION_FAILED,
    }
