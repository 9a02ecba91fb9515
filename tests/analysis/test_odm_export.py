"""CDISC ODM 1.3.2 export: loaded back with odmlib (XSD, ODM 1.3.2 model, element order, OID
references, conformance), every ItemData compared with the CSV exports, the metadata compared
with the data dictionary, the audit trail, signatures and locks, and no identity data."""

from __future__ import annotations

import csv
import io
import xml.etree.ElementTree as ET

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from odmlib import loader as odm_loader
from odmlib import odm_loader as xml_loader
from odmlib import odm_parser
from odmlib.odm_1_3_2.rules.metadata_schema import MetadataSchema
from odmlib.oid_generator import create_oid_checker

from analysis.dataset import VISIT_VARIABLES, form_state_columns
from analysis.exports import csv_tables, odm
from analysis.exports.dictionary import dictionary
from analysis.exports.options import ExportOptions, ExportResult
from analysis.exports.shaping import RELATIVE
from analysis.models import ExportLog
from assessments.models import CRF_MODELS, SpasmAssessment, Visit
from assessments.schedule import VISITS
from assessments.services import crf_save
from demo.seed import seed_accounts, seed_cohort
from monitoring import services as monitoring
from monitoring.models import Signature
from patients.models import Identity, Patient
from tests.conftest import login

PASSWORD = "cohort-password-1"
N = {"odm": odm.NS, "xml": "http://www.w3.org/XML/1998/namespace"}
RECORD_TABLES = ("adverse_events", "treatment_exposure", "concomitant_medication")


@pytest.fixture
def cohort(db):
    sites = seed_accounts(PASSWORD)
    seed_cohort(patients=5, seed=5, sites=sites)
    return sites


def _export(options: ExportOptions | None = None) -> bytes:
    return odm.odm_bytes(options or ExportOptions())[0]


def _tree(options: ExportOptions | None = None) -> ET.Element:
    return ET.fromstring(_export(options))  # noqa: S314 - our own file, not untrusted input


def _csv(table: str, options: ExportOptions) -> list[dict[str, str]]:
    text = "".join(csv_tables.stream_csv(table, options, ExportResult()))
    return list(csv.DictReader(io.StringIO(text)))


def _odm_values(root: ET.Element) -> dict[tuple, str]:
    """(subject, event, form, repeat key, item) -> Value of every ItemData."""
    out = {}
    for subject in root.iterfind("odm:ClinicalData/odm:SubjectData", N):
        for event in subject.iterfind("odm:StudyEventData", N):
            for form in event.iterfind("odm:FormData", N):
                for item in form.iterfind("odm:ItemGroupData/odm:ItemData", N):
                    key = (
                        subject.get("SubjectKey"),
                        event.get("StudyEventOID"),
                        form.get("FormOID"),
                        form.get("FormRepeatKey"),
                        item.get("ItemOID"),
                    )
                    assert key not in out, key
                    out[key] = item.get("Value")
    return out


def _csv_values(options: ExportOptions, root: ET.Element) -> dict[tuple, str]:
    """The same keys from the CSV tables: visit columns per held visit, patient columns once,
    one repeat per record row; booleans as ODM writes them."""
    booleans = {
        d.get("OID") for d in root.iterfind(".//odm:ItemDef", N) if d.get("DataType") == "boolean"
    }
    visit_columns = ["visit_date", "visit_day", "visit_status", "visit_missed_reason"]
    patient_columns = [c for c in _csv("patients", options)[0] if c != "study_id"]
    out = {}

    def put(key, column, text):
        if text == "":
            return
        item = odm.oid("IT", column)
        out[(*key, item)] = odm.BOOLEANS[text] if item in booleans else text

    for row in _csv("long", options):
        key, code = row["study_id"], row["visit"]
        for column in patient_columns:  # the patient's columns repeat on every visit row
            put((key, odm.COMMON_EVENT, "F.PATIENT", None), column, row[column])
        if not row["visit_status"]:
            visit_values = [row[c] for c in row if c not in patient_columns]
            assert set(visit_values) <= {"", key, code}, "a visit not held has no values"
            continue
        for column in visit_columns:
            if column in row:
                put((key, f"SE.{code}", "F.VISIT", None), column, row[column])
        for form_code in VISITS[code].forms:
            for variable in odm.VISIT_VARIABLES[CRF_MODELS[form_code]].values():
                column = variable if variable in row else RELATIVE.get(variable)
                if column in row:
                    put((key, f"SE.{code}", f"F.{form_code.upper()}", None), column, row[column])
    for table in RECORD_TABLES:
        counts: dict[str, int] = {}
        for row in _csv(table, options):
            counts[row["study_id"]] = counts.get(row["study_id"], 0) + 1
            key = (
                row["study_id"],
                odm.COMMON_EVENT,
                f"F.{table.upper()}",
                str(counts[row["study_id"]]),
            )
            for column, text in row.items():
                if column != "study_id":
                    put(key, column, text)
    return out


def test_odm_loads_in_odmlib_and_passes_its_checks(cohort, tmp_path):
    """XSD (odmlib's packaged ODM1-3-2.xsd), the ODM 1.3.2 object model, element order, OID
    uniqueness and def/ref integrity, and the Cerberus conformance of the study metadata."""
    path = tmp_path / "study.xml"
    call_command("export_data", "--format", "odm", "--out", str(path))
    odm_parser.ODMSchemaValidator(standard="odm", version="1.3.2").validate_file(str(path))

    loader = odm_loader.ODMLoader(xml_loader.XMLODMLoader())
    loader.open_odm_document(str(path))
    document = loader.root()
    assert document.FileType == "Snapshot" and document.ODMVersion == "1.3.2"
    assert document.verify_order()
    checker = create_oid_checker("odm_1_3_2")
    assert document.verify_oids(checker)
    # Cerberus conformance of the whole Study. odmlib's schema declares ItemDef/RangeCheck as
    # one dict although ODM 1.3.2 (and odmlib's own model) allow several (RangeCheck*), so the
    # range checks are checked one by one against its RangeCheck schema and the rest whole.
    conformance = MetadataSchema()
    study = document.Study[0].to_dict()
    ranges = 0
    for item in study["MetaDataVersion"][0]["ItemDef"]:
        for check in item.pop("RangeCheck", []):
            assert conformance.check_conformance(check, "RangeCheck")
            ranges += 1
    assert ranges > 50
    assert conformance.check_conformance(study, "Study")
    mdv = loader.MetaDataVersion()
    assert [e.OID for e in mdv.StudyEventDef] == ["SE.V0", "SE.V1", "SE.V2", "SE.V3", "SE.COMMON"]
    clinical = document.ClinicalData[0]
    assert len(clinical.SubjectData) == Patient.objects.count()
    assert ExportLog.objects.get(export_format="odm").rows == Patient.objects.count() * len(VISITS)


def _odmlib_checks(data: bytes, tmp_path) -> None:
    path = tmp_path / "checked.xml"
    path.write_bytes(data)
    odm_parser.ODMSchemaValidator(standard="odm", version="1.3.2").validate_file(str(path))
    loader = odm_loader.ODMLoader(xml_loader.XMLODMLoader())
    loader.open_odm_document(str(path))
    document = loader.root()
    assert document.verify_order()
    assert document.verify_oids(create_oid_checker("odm_1_3_2"))


@pytest.mark.parametrize("relative_dates", [True, False])
def test_every_item_value_is_the_csv_value(cohort, relative_dates):
    options = ExportOptions(relative_dates=relative_dates)
    root = _tree(options)
    values = _odm_values(root)
    expected = _csv_values(options, root)
    assert len(values) > 1000
    assert values == expected
    dates = [k for k in values if k[-1] in {"IT.CONSENT_DATE", "IT.VISIT_DATE"}]
    assert bool(dates) is not relative_dates  # calendar dates only when asked for


WORKFLOW_COLUMNS = {
    "visit_out_of_window",
    *(name for model in VISIT_VARIABLES for name in form_state_columns(model)),
}


def test_metadata_agree_with_the_data_dictionary(cohort):
    root = _tree()
    defs = {d.get("Name"): d for d in root.iterfind(".//odm:ItemDef", N)}
    units = {u.get("OID"): u.get("Name") for u in root.iterfind(".//odm:BasicDefinitions/*", N)}
    codelists = {c.get("OID"): c for c in root.iterfind(".//odm:CodeList", N)}
    checked = 0
    for row in dictionary().itertuples():
        if row.variable in {"visit", "randomised_on", "study_id"}:
            continue  # the study event, day 0 itself (not a column), the SubjectKey
        if row.variable in WORKFLOW_COLUMNS or row.variable.endswith("_code"):
            continue  # form states, SDV, locks and missing-data codes: not ItemDefs (yet)
        name = RELATIVE.get(row.variable) or row.variable if row.type == "date" else row.variable
        definition = defs[name]
        question = {
            t.get(odm.XML_LANG): t.text
            for t in definition.iterfind("odm:Question/odm:TranslatedText", N)
        }
        assert question == {"en": row.label_en, "ru": row.label_ru}, name
        unit_ref = definition.find("odm:MeasurementUnitRef", N)
        if row.type == "date":
            assert definition.get("DataType") == "integer"
            assert units[unit_ref.get("MeasurementUnitOID")] == "days"
        elif row.unit and not row.unit.startswith("see "):
            assert units[unit_ref.get("MeasurementUnitOID")] == row.unit, name
        else:
            assert unit_ref is None, name
        ranges = {
            r.get("Comparator"): r.find("odm:CheckValue", N).text
            for r in definition.iterfind("odm:RangeCheck", N)
        }
        codelist_ref = definition.find("odm:CodeListRef", N)
        if "=" in row.allowed:
            codelist = codelists[codelist_ref.get("CodeListOID")]
            decoded = "; ".join(
                f"{i.get('CodedValue')}="
                + i.find("odm:Decode/odm:TranslatedText[@xml:lang='en']", N).text
                for i in codelist.iterfind("odm:CodeListItem", N)
            )
            assert decoded == row.allowed, name
            assert all(
                i.find("odm:Decode/odm:TranslatedText[@xml:lang='ru']", N).text
                for i in codelist.iterfind("odm:CodeListItem", N)
            )
        elif "–" in row.allowed:
            low, high = row.allowed.split("–")
            assert ranges == {k: v for k, v in (("GE", low), ("LE", high)) if v != "None"}, name
        else:
            assert codelist_ref is None and not ranges, name
        checked += 1
    assert checked > 100
    assert (
        codelists["CL.RAND36_Q01"]
        .find("odm:CodeListItem/odm:Decode/odm:TranslatedText[@xml:lang='ru']", N)
        .text
    )


def _decoded(root, user_oid: str) -> str:
    user = root.find(f"odm:AdminData/odm:User[@OID='{user_oid}']", N)
    return user.find("odm:LoginName", N).text


def test_audit_records_signatures_and_locks(cohort, tmp_path):
    form = (
        SpasmAssessment.objects.filter(status="complete").select_related("visit__patient").first()
    )
    patient, visit = form.visit.patient, form.visit
    clinician = User.objects.get(
        username="clinician_a" if patient.site.code == "SMR" else "clinician_b"
    )
    created = form.history.order_by("history_date").first().history_date
    form.vas_frequency = 12 if form.vas_frequency != 12 else 13
    crf_save(
        form=form,
        user=clinician,
        action="complete",
        base_version=form.version,
        reason="corrected after source check",
        confirmed=True,
    )
    changed = form.history.order_by("history_date").last().history_date
    dm = User.objects.get(username="datamanager")
    monitoring.form_verify(
        visit=visit, form_code="spasm", user=User.objects.get(username="monitor")
    )
    monitoring.record_lock(patient=patient, user=dm, visit=visit, form_code="spasm")
    investigator = User.objects.get(username="investigator")
    request = RequestFactory().post("/")
    monitoring.casebook_sign(
        request=request,
        user=investigator,
        password=PASSWORD,
        meaning=Signature.Meaning.APPROVE,
        patient=patient,
    )

    data = _export()
    _odmlib_checks(data, tmp_path)  # with a Signature, its SignatureDef and a lock Annotation
    root = ET.fromstring(data)  # noqa: S314 - our own file
    subject = root.find(f".//odm:SubjectData[@SubjectKey='{patient.study_id}']", N)
    form_data = subject.find(
        f"odm:StudyEventData[@StudyEventOID='SE.{visit.code}']/odm:FormData[@FormOID='F.SPASM']", N
    )
    audit = form_data.find("odm:AuditRecord", N)
    assert _decoded(root, audit.find("odm:UserRef", N).get("UserOID")) == clinician.username
    assert audit.find("odm:LocationRef", N).get("LocationOID") == f"LOC.{patient.site.code}"
    assert audit.find("odm:DateTimeStamp", N).text == odm._stamp(changed)
    assert audit.find("odm:ReasonForChange", N).text == "corrected after source check"
    items = {i.get("ItemOID"): i for i in form_data.iterfind("odm:ItemGroupData/odm:ItemData", N)}
    assert items["IT.VAS_FREQUENCY"].find("odm:AuditRecord", N) is None  # the form's record
    earlier = items["IT.VAS_INTENSITY"].find("odm:AuditRecord/odm:DateTimeStamp", N).text
    assert earlier == odm._stamp(created)  # set when the form was created, unchanged since
    flag = form_data.find("odm:Annotation/odm:Flag/odm:FlagValue", N)
    assert flag.text == "locked" and flag.get("CodeListOID") == odm.LOCK_CODELIST

    signature = subject.find("odm:Signature", N)
    assert _decoded(root, signature.find("odm:UserRef", N).get("UserOID")) == "investigator"
    definition = root.find("odm:AdminData/odm:SignatureDef", N)
    assert signature.find("odm:SignatureRef", N).get("SignatureOID") == definition.get("OID")
    assert definition.find("odm:Meaning", N).text == "I have reviewed and approve these data"


def test_no_identity_data_and_flat_query_count(cohort):
    data = _export().decode("utf-8")
    secrets = []
    for identity in Identity.objects.all():
        secrets += [identity.full_name, identity.date_of_birth.isoformat()]
        secrets += [s for s in (identity.phone, identity.medical_record_number) if s]
    for user in User.objects.all():
        secrets += [s for s in (user.first_name, user.last_name, user.email) if s]
    assert secrets
    assert [s for s in secrets if s in data] == []

    def queries(options):
        with CaptureQueriesContext(connection) as context:
            _export(options)
        return len(context.captured_queries)

    assert queries(ExportOptions(sites=["SMR"])) == queries(ExportOptions())


def test_odm_on_the_export_page(cohort):
    response = login(User.objects.get(username="datamanager")).get(
        reverse("analysis:export"), {"format": "odm"}
    )
    assert response.status_code == 200
    body = b"".join(response.streaming_content) if response.streaming else response.content
    assert body.startswith(b"<?xml") and b'ODMVersion="1.3.2"' in body
    assert Visit.objects.exists()
