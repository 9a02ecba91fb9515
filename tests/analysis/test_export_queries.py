"""Issue 12.7: the long CSV export reads each table once, so its number of queries does not
grow with the number of patients or of chunks, and chunking never changes the file."""

from __future__ import annotations

from django.db import connection
from django.test.utils import CaptureQueriesContext

from analysis.exports.csv_tables import stream_csv
from analysis.exports.files import export_file
from analysis.exports.options import ExportOptions, ExportResult
from assessments.models import SpasmAssessment, Visit
from assessments.services import crf_save
from monitoring import services as monitoring
from tests import factories
from tests.factories import SPASM


def _patient(site, user, monitor) -> None:
    patient = factories.randomised(site, user)
    visit = Visit.objects.get(patient=patient, code="V0")
    form = SpasmAssessment(visit=visit, **{k: int(v) for k, v in SPASM.items()})
    crf_save(form=form, user=user, action="complete", confirmed=True)
    monitoring.form_verify(visit=visit, form_code="spasm", user=monitor)


def _export_queries(**options) -> tuple[int, str]:
    with CaptureQueriesContext(connection) as captured:
        file = export_file("csv-long", ExportOptions(**options), user=None)
        body = b"".join(file.chunks).decode("utf-8-sig")
    return len(captured.captured_queries), body


def _stream_queries(chunk: int) -> tuple[int, str]:
    with CaptureQueriesContext(connection) as captured:
        text = "".join(stream_csv("long", ExportOptions(), ExportResult(), chunk=chunk))
    return len(captured.captured_queries), text


def test_the_long_export_costs_the_same_queries_whatever_the_number_of_patients(
    alice, site_a, mona
):
    factories.allocation_list(["SMR"], per_stratum=10)
    _patient(site_a, alice, mona)
    few, _ = _export_queries()
    few_at_site, _ = _export_queries(sites=[site_a.code])
    for _ in range(5):
        _patient(site_a, alice, mona)
    many, body = _export_queries()
    assert body.count("\r\n") == 1 + 6 * 4  # header, then every patient × visit
    assert many == few
    assert _export_queries(sites=[site_a.code])[0] == few_at_site


def test_chunks_of_one_patient_cost_no_more_queries_and_give_the_same_file(alice, site_a, mona):
    factories.allocation_list(["SMR"], per_stratum=10)
    for _ in range(4):
        _patient(site_a, alice, mona)
    whole_queries, whole = _stream_queries(chunk=1000)
    chunked_queries, chunked = _stream_queries(chunk=1)
    assert chunked == whole
    assert chunked_queries == whole_queries
