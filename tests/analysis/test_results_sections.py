"""Issue 12 point 3: every section of the results document is computed on its own, and a
section that cannot be computed says why while the rest of the document still computes.
Datasets built directly as DataFrames in the dataset's own shape (pure), and once end to end
from stored forms through the factories, the dataset builder and the dashboards."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import numpy as np
import pandas as pd
import pytest
import statsmodels.formula.api as smf

from analysis.dataset import ANALYSIS_LEVEL, Dataset
from analysis.results import SECTIONS, compute_results
from analysis.stats import notes
from tests.analysis.test_stats import REL

CUT = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def synthetic(n: int = 40, seed: int = 3, arms: tuple[str, ...] = ("standard", "b12")) -> Dataset:
    """A randomised cohort with every analysis variable at every visit."""
    rng = np.random.default_rng(seed)
    ids = [f"SMR-{i:03d}" for i in range(n)]
    arm = [arms[i % len(arms)] for i in range(n)]
    patients = pd.DataFrame(
        {
            "study_id": ids,
            "site": "SMR",
            "arm": arm,
            "randomised_on": date(2025, 1, 1),
            "age": rng.normal(50, 10, n).round(),
            "sex": np.where(rng.random(n) < 0.6, "female", "male"),
            "disease_duration_months": rng.integers(6, 120, n).astype(float),
            "affected_side": "left",
            "withdrawal_reason": None,
            "withdrawn": 0,
            "received_allocation": 1,
            "itt": 1,
            "mitt": 1,
            "pp": 1,
            "b12_deficient_baseline": np.nan,
            "male": np.nan,
        }
    )
    patients["male"] = (patients.sex == "male").astype(float)
    rows = []
    for i, study_id in enumerate(ids):
        level = rng.normal(50, 10)
        for k, visit in enumerate(("V0", "V1", "V2", "V3")):
            drop = (0.1 if arm[i] == "b12" else 0.04) * k
            values = {v: level * (1 - drop) + rng.normal(0, 5) for v in ANALYSIS_LEVEL}
            values["b12_pmol_l"] = rng.lognormal(np.log(230), 0.4) * (1 + drop)
            rows.append(
                {"study_id": study_id, "site": "SMR", "arm": arm[i], "visit": visit, **values}
            )
    long = pd.DataFrame(rows)
    b12_v0 = long[long.visit == "V0"].set_index("study_id").b12_pmol_l
    patients["b12_deficient_baseline"] = (patients.study_id.map(b12_v0) < 148).astype(float)
    screening = pd.DataFrame({"outcome": ["eligible"] * n, "failure_reasons": [""] * n})
    events = pd.DataFrame(
        {
            "study_id": ids[:3],
            "severity": ["mild", "moderate", "mild"],
            "serious": [False, False, True],
            "relation": ["possible", "unlikely", "not_related"],
        }
    )
    return Dataset(patients, long, screening, events, data_cut=CUT)


def _blank(dataset: Dataset, variable: str, visits: tuple[str, ...]) -> Dataset:
    dataset.long.loc[dataset.long.visit.isin(visits), variable] = np.nan
    return dataset


def _document(dataset: Dataset) -> dict:
    doc = compute_results(dataset)
    json.dumps(doc, allow_nan=False)  # JSON-safe throughout
    assert set(SECTIONS) <= set(doc)
    return doc


def _primary_reference(dataset: Dataset) -> tuple[float, float]:
    wide = dataset.wide(["vas_frequency"])
    data = wide.assign(
        b12arm=(wide.arm == "b12").astype(int),
        vas_frequency__V0=pd.to_numeric(wide.vas_frequency__V0),
        vas_frequency__V3=pd.to_numeric(wide.vas_frequency__V3),
    )
    fit = smf.ols("vas_frequency__V3 ~ b12arm + vas_frequency__V0", data).fit()
    return float(fit.params["b12arm"]), float(fit.pvalues["b12arm"])


def test_no_baseline_b12_at_all_computes_every_section():
    dataset = _blank(synthetic(), "b12_pmol_l", ("V0",))
    dataset.patients["b12_deficient_baseline"] = np.nan
    dataset.long.loc[dataset.long.index[3::23], "vas_frequency"] = np.nan  # something to impute
    doc = _document(dataset)
    assert doc["section_notes"] == {}
    estimate, p = _primary_reference(dataset)
    assert doc["primary"]["ancova"]["estimate"] == pytest.approx(estimate, rel=REL)
    assert doc["primary"]["ancova"]["p"] == pytest.approx(p, rel=REL)
    mi = doc["missing_data"]["multiple_imputation"]
    assert mi["estimate"] is not None and mi["covariates_dropped"] == ["b12_pmol_l__V0"]
    assert mi["donors"] == 5 and mi["df_method"] == "Barnard-Rubin"
    assert doc["subgroups"]["deficient"]["estimate"] is None
    assert doc["subgroups"]["deficient"]["note"] == notes.ARM_WITHOUT_PAIRS
    v0 = [c for c in doc["correlations"] if c["timepoint"] == "V0"]
    assert v0 and all(c["r"] is None for c in v0)
    intensity = next(r for r in doc["regression"] if r["variable"] == "vas_intensity")
    assert intensity["terms"] == [] and intensity["n"] == 0  # needs baseline B12: says so
    assert intensity["note"] == notes.COLLINEAR


def test_an_empty_arm_computes_every_section_with_notes():
    doc = _document(synthetic(arms=("standard",)))
    assert doc["section_notes"] == {}
    assert doc["primary"]["n"] == {"standard": 40, "b12": 0}
    assert doc["primary"]["ancova"]["note"] == notes.ARM_WITHOUT_PAIRS
    assert doc["primary"]["sensitivity"]["welch"]["note"] == notes.TWO_PER_ARM
    assert doc["responders"]["fisher"]["note"] == notes.ARM_WITHOUT_PAIRS
    assert doc["mixed_model"]["note"] == notes.MIXED_TOO_FEW
    assert doc["missing_data"]["multiple_imputation"]["estimate"] is None
    assert all(r["p_adjusted"] is None for r in doc["secondary"])
    assert doc["safety"]["any"]["standard"]["n"] == 3
    assert doc["baseline"]["rows"]  # the standard arm is still described


def test_a_single_follow_up_visit_gives_the_mixed_model_a_note_and_the_rest_numbers():
    dataset = _blank(synthetic(), "vas_frequency", ("V1", "V2"))
    doc = _document(dataset)
    assert doc["section_notes"] == {}
    mixed = doc["mixed_model"]
    assert mixed["note"] == notes.MIXED_NOT_IDENTIFIABLE and mixed["by_visit"] == []
    assert [t["mean"] for t in mixed["trajectory"] if t["visit"] == "V1"] == [None, None]
    estimate, _ = _primary_reference(dataset)
    assert doc["primary"]["ancova"]["estimate"] == pytest.approx(estimate, rel=REL)


def test_a_section_that_raises_reports_a_note_and_the_others_still_compute(caplog):
    dataset = synthetic()
    # a corrupt stored value at V1 (not a number): only the repeated-measures section reads it
    dataset.long["vas_frequency"] = dataset.long.vas_frequency.astype(object)
    dataset.long.loc[dataset.long.visit == "V1", "vas_frequency"] = "n/a"
    doc = _document(dataset)
    assert doc["section_notes"] == {"mixed_model": notes.SECTION_FAILED}
    mixed = doc["mixed_model"]
    assert mixed["note"] == notes.SECTION_FAILED and "ValueError" in mixed["error"]
    assert mixed["by_visit"] == [] and mixed["population"] == "ITT with follow-up"
    assert mixed["data_cut"] == CUT.isoformat()
    assert "could not be computed" in caplog.text
    for name in set(SECTIONS) - {"mixed_model"}:
        section = doc[name]
        assert not (isinstance(section, dict) and section.get("note") == notes.SECTION_FAILED)
    estimate, _ = _primary_reference(dataset)
    assert doc["primary"]["ancova"]["estimate"] == pytest.approx(estimate, rel=REL)


def test_a_regression_model_that_raises_is_a_row_with_the_note():
    dataset = synthetic()
    # a data set without the HADS anxiety score: the regression of the HADS total needs it
    dataset.long = dataset.long.drop(columns="hads_a")
    doc = _document(dataset)
    rows = doc["regression"]
    assert [r["variable"] for r in rows] == ["vas_intensity", "hdrs_total", "hads_total"]
    failed = rows[2]
    assert failed["note"] == notes.SECTION_FAILED and "KeyError" in failed["error"]
    assert failed["n"] is None and failed["terms"] == []  # no number it cannot support
    assert all(r["terms"] and "note" not in r for r in rows[:2])  # the other models stand
    hads_a = next(r for r in doc["secondary"] if r["outcome"] == "hads_a")
    assert hads_a["ancova"]["note"] == notes.NO_DATA  # handled where it belongs
    assert doc["primary"]["ancova"]["estimate"] is not None


def test_every_note_has_a_russian_translation(settings):
    from django.utils import translation

    texts = [v for k, v in vars(notes).items() if k.isupper() and isinstance(v, str)]
    assert len(texts) > 15
    with translation.override("ru"):
        for text in texts:
            assert translation.gettext(text) != text, text


@pytest.mark.django_db
def test_end_to_end_drafts_excluded_no_baseline_b12_and_a_single_follow_up(site_a, alice, ivan):
    """Stored through the services: the baseline B12 panels are drafts (the factory saves
    drafts), so no baseline B12 enters the analysis at all; only V3 follows V0; one V3 spasm
    form is a draft. The document computes, counts the drafts, and the dashboards render."""
    from django.core.cache import cache
    from django.urls import reverse

    from analysis.dataset import build_dataset
    from assessments.models import SpasmAssessment, Visit
    from assessments.services import crf_save
    from tests import factories
    from tests.conftest import login

    cache.clear()
    factories.allocation_list(["SMR"])
    rng = np.random.default_rng(5)
    draft_value = None
    for i in range(10):
        patient = factories.randomised(site_a, alice, days_ago=100)
        factories.visit(patient, alice, "V3")
        for code in ("V0", "V3"):
            visit = Visit.objects.get(patient=patient, code=code)
            value = int(rng.integers(20, 90))
            form = SpasmAssessment(
                visit=visit,
                vas_frequency=value,
                vas_intensity=int(rng.integers(20, 90)),
                jankovic_severity=2,
                jankovic_frequency=2,
            )
            draft = i == 0 and code == "V3"
            crf_save(form=form, user=alice, action="draft" if draft else "complete", confirmed=True)
            if draft:
                draft_value, draft_id = value, patient.study_id
    dataset = build_dataset()
    assert dataset.long.b12_pmol_l.isna().all()  # ten draft lab panels left out
    row = dataset.long[(dataset.long.study_id == draft_id) & (dataset.long.visit == "V3")]
    assert row.vas_frequency.isna().all() and draft_value is not None
    doc = compute_results(dataset)
    assert doc["drafts_excluded"]["total"] == 11
    assert doc["drafts_excluded"]["by_form"]["labs"] == 10
    assert doc["drafts_excluded"]["by_form"]["spasm"] == 1
    assert doc["section_notes"] == {}
    assert doc["mixed_model"]["note"] == notes.MIXED_NOT_IDENTIFIABLE
    mi = doc["missing_data"]["multiple_imputation"]
    assert mi["covariates_dropped"] == ["b12_pmol_l__V0"] and mi["patients_with_missing"] == 1
    assert sum(doc["primary"]["ancova"]["n"].values()) == 9

    from analysis.services import results_refresh

    results_refresh()  # what the background task does after the writes
    client = login(ivan)
    for page in ("overview", "primary", "secondary", "correlations", "regression", "mixed"):
        url = (
            reverse("analysis:overview")
            if page == "overview"
            else reverse("analysis:page", args=[page])
        )
        assert client.get(url).status_code == 200, page
    for page in ("subgroups", "safety"):
        assert client.get(reverse("analysis:page", args=[page])).status_code == 200, page
    assert client.get(reverse("analysis:results_json")).json()["drafts_excluded"]["total"] == 11
    from django.utils import translation

    with translation.override("ru"):
        not_identifiable = translation.gettext(notes.MIXED_NOT_IDENTIFIABLE)
    mixed = client.get(reverse("analysis:page", args=["mixed"])).content.decode()
    assert 'data-testid="section-notes"' in mixed and not_identifiable in mixed
