"""CDISC ODM 1.3.2 export: the study design (from ``odm_meta``) and the de-identified clinical
data with the audit trail, e-signatures and record locks, in one Snapshot file.

Values are the CSV export's, cell for cell: the same tables (``shaping.tables``) written as CSV
text and read back, so numbers, days since day 0 and neutralised text are identical; only
booleans are written as ODM's ``true``/``false``. A blank cell has no ItemData.

Each FormData carries the AuditRecord of the form's last change (who, site, when, reason, from
its simple-history table); an ItemData whose value was last set by an earlier change carries
that change's AuditRecord. A fixed number of queries whatever the number of patients.
"""

from __future__ import annotations

import csv
import io
import xml.etree.ElementTree as ET
from collections import defaultdict
from datetime import UTC, datetime
from typing import Any

from django.contrib.auth import get_user_model
from django.utils import timezone

from analysis.dataset import RECORD_FIELDS, VISIT_VARIABLES, build_dataset
from analysis.exports.csv_tables import to_csv_text
from analysis.exports.odm_meta import (
    COMMON_EVENT,
    PATIENT_FORM,
    VISIT_COLUMNS,
    VISIT_FORM,
    Design,
    Form,
    design,
    in_languages,
    oid,
)
from analysis.exports.options import ExportOptions, patient_pks
from analysis.exports.shaping import RELATIVE, tables
from assessments.models import CRF_MODELS, Visit
from assessments.schedule import VISITS
from monitoring.models import RecordLock, Signature
from patients.models import Patient, Site

NS = "http://www.cdisc.org/ns/odm/v1.3"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
STUDY_OID = "ST.HFS-B12"
STUDY_NAME = "HFS-B12"
MDV_OID = "MDV.HFS-B12.1"
SYSTEM_USER = "USR.SYSTEM"
LOCK_CODELIST = "CL.LOCK"
LOCKED = "locked"
BOOLEANS = {"True": "true", "False": "false"}
DAY_NAMES = {**RELATIVE, "visit_date": "visit_day"}  # a date's column in relative mode
ET.register_namespace("", NS)


def _el(parent: ET.Element | None, tag: str, text: str | None = None, **attrs: Any) -> ET.Element:
    attrs = {k: str(v) for k, v in attrs.items() if v is not None}
    element = (
        ET.Element(f"{{{NS}}}{tag}", attrs)
        if parent is None
        else ET.SubElement(parent, f"{{{NS}}}{tag}", attrs)
    )
    if text is not None:
        element.text = text
    return element


def _translated(parent: ET.Element, tag: str, texts: dict[str, str]) -> None:
    holder = _el(parent, tag)
    for language, text in texts.items():
        _el(holder, "TranslatedText", text, **{XML_LANG: language})


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat()


def csv_cells(frame) -> list[dict[str, str]]:
    """The rows of a table exactly as the CSV export writes them."""
    return list(csv.DictReader(io.StringIO(to_csv_text(frame)))) if len(frame.columns) else []


def odm_bytes(options: ExportOptions, *, now: datetime | None = None) -> tuple[bytes, int]:
    """The ODM document of the chosen patients, and the number of long-table rows."""
    now = now or timezone.now()
    study = design(relative_dates=options.relative_dates)
    pks = patient_pks(options)
    out = tables(build_dataset(patient_pks=pks, records=True), options)
    trail = AuditTrail(pks, study)
    root = _el(
        None,
        "ODM",
        FileType="Snapshot",
        ODMVersion="1.3.2",
        FileOID=f"HFS-B12.{now.strftime('%Y%m%dT%H%M%S')}",
        CreationDateTime=_stamp(now),
        Granularity="All" if not (options.sites or options.study_ids) else None,
        Description="HFS-B12 eCRF export, de-identified (study IDs only"
        + (", dates as days since day 0)" if options.relative_dates else ")"),
    )
    _study(root, study)
    clinical = ET.Element(f"{{{NS}}}ClinicalData", StudyOID=STUDY_OID, MetaDataVersionOID=MDV_OID)
    long_rows = csv_cells(out["long"])
    _subjects(clinical, study, out, long_rows, trail)
    _admin(root, trail, now)
    root.append(clinical)
    ET.indent(root, space=" ")
    data = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return data, len(long_rows)


def _study(root: ET.Element, study: Design) -> None:
    element = _el(root, "Study", OID=STUDY_OID)
    glob = _el(element, "GlobalVariables")
    _el(glob, "StudyName", STUDY_NAME)
    _el(glob, "StudyDescription", "Vitamin B12 in hemifacial spasm: randomised trial")
    _el(glob, "ProtocolName", STUDY_NAME)
    basic = _el(element, "BasicDefinitions")
    for unit, unit_oid in study.units.items():
        measurement = _el(basic, "MeasurementUnit", OID=unit_oid, Name=unit)
        _translated(measurement, "Symbol", {"en": unit})
    mdv = _el(element, "MetaDataVersion", OID=MDV_OID, Name="HFS-B12 eCRF")
    protocol = _el(mdv, "Protocol")
    for number, event in enumerate(study.events, start=1):
        _el(protocol, "StudyEventRef", StudyEventOID=event.oid, OrderNumber=number, Mandatory="No")
    for event in study.events:
        definition = _el(
            mdv,
            "StudyEventDef",
            OID=event.oid,
            Name=event.name,
            Repeating="Yes" if event.repeating else "No",
            Type=event.event_type,
        )
        for number, code in enumerate(event.forms, start=1):
            _el(
                definition,
                "FormRef",
                FormOID=study.forms[code].oid,
                OrderNumber=number,
                Mandatory="No",
            )
    for form in study.forms.values():
        definition = _el(
            mdv, "FormDef", OID=form.oid, Name=form.code, Repeating=_yes(form.repeating)
        )
        _translated(definition, "Description", form.labels)
        _el(definition, "ItemGroupRef", ItemGroupOID=form.group_oid, Mandatory="Yes")
    for form in study.forms.values():
        group = _el(mdv, "ItemGroupDef", OID=form.group_oid, Name=form.code, Repeating="No")
        for number, item in enumerate(form.items, start=1):
            _el(group, "ItemRef", ItemOID=item.oid, OrderNumber=number, Mandatory="No")
    for item in study.items():
        definition = _el(
            mdv,
            "ItemDef",
            OID=item.oid,
            Name=item.name,
            DataType=item.data_type,
            Length=item.length,
            Comment="days since day 0 (randomisation; before it, consent)" if item.days else None,
        )
        _translated(definition, "Question", item.labels)
        unit = study.units.get(item.unit)
        if unit:
            _el(definition, "MeasurementUnitRef", MeasurementUnitOID=unit)
        for comparator, limit in (("GE", item.low), ("LE", item.high)):
            if limit is not None:
                check = _el(definition, "RangeCheck", Comparator=comparator, SoftHard="Hard")
                _el(check, "CheckValue", str(limit))
                if unit:
                    _el(check, "MeasurementUnitRef", MeasurementUnitOID=unit)
        if item.codelist_oid:
            _el(definition, "CodeListRef", CodeListOID=item.codelist_oid)
    for item in study.items():
        if not item.choices:
            continue
        codelist = _el(
            mdv,
            "CodeList",
            OID=item.codelist_oid,
            Name=item.name,
            DataType="integer" if item.data_type == "integer" else "text",
        )
        for number, (value, labels) in enumerate(item.choices, start=1):
            entry = _el(codelist, "CodeListItem", CodedValue=value, OrderNumber=number)
            _translated(entry, "Decode", labels)
    codelist = _el(mdv, "CodeList", OID=LOCK_CODELIST, Name="record lock", DataType="text")
    entry = _el(codelist, "CodeListItem", CodedValue=LOCKED)
    _translated(entry, "Decode", in_languages(RecordLock._meta.verbose_name))


def _yes(flag: bool) -> str:
    return "Yes" if flag else "No"


def _subjects(clinical, study: Design, out: dict, long_rows: list, trail: AuditTrail) -> None:
    by_patient: dict[str, list[dict[str, str]]] = defaultdict(list)
    for row in long_rows:
        by_patient[row["study_id"]].append(row)
    records = {table: _group(csv_cells(out[table])) for table in RECORD_FIELDS if table in out}
    for patient in csv_cells(out["patients"]):
        key = patient["study_id"]
        subject = _el(clinical, "SubjectData", SubjectKey=key)
        trail.signature(subject, key, None)
        _el(subject, "SiteRef", LocationOID=oid("LOC", patient["site"]))
        trail.lock(subject, key, None, None)
        for row in by_patient[key]:
            if not row.get("visit_status"):
                continue  # a visit not yet held
            _visit(subject, study, row, trail)
        event = _el(subject, "StudyEventData", StudyEventOID=COMMON_EVENT)
        _form(event, study.forms[PATIENT_FORM], patient, trail, audit=None)
        for table, grouped in records.items():
            for number, row in enumerate(grouped.get(key, []), start=1):
                audit = trail.record_audit(table, key, number)
                _form(event, study.forms[table], row, trail, audit=audit, repeat=number)


def _group(rows: list[dict[str, str]]) -> dict[str, list[dict[str, str]]]:
    out: dict[str, list[dict[str, str]]] = defaultdict(list)
    for row in rows:
        out[row["study_id"]].append(row)
    return out


def _visit(subject, study: Design, row: dict[str, str], trail: AuditTrail) -> None:
    key, code = row["study_id"], row["visit"]
    event = _el(subject, "StudyEventData", StudyEventOID=oid("SE", code))
    trail.signature(event, key, code)
    trail.lock(event, key, code, None)
    _form(event, study.forms[VISIT_FORM], row, trail, audit=trail.visit_audit(key, code))
    for form_code in VISITS[code].forms:
        _form(
            event,
            study.forms[form_code],
            row,
            trail,
            audit=trail.form_audit(form_code, key, code),
            lock=(key, code, form_code),
        )


def _form(parent, form: Form, row, trail, *, audit, repeat=None, lock=None) -> None:
    values = [(item, row.get(item.name, "")) for item in form.items]
    values = [(item, value) for item, value in values if value != ""]
    if not values:
        return
    data = _el(parent, "FormData", FormOID=form.oid, FormRepeatKey=repeat)
    latest = audit.latest if audit else None
    if latest:
        trail.audit_record(data, latest)
    if lock:
        trail.lock(data, *lock)
    group = _el(data, "ItemGroupData", ItemGroupOID=form.group_oid)
    for item, value in values:
        if item.data_type == "boolean":
            value = BOOLEANS.get(value, value)
        element = _el(group, "ItemData", ItemOID=item.oid, Value=value)
        change = audit.item_changes.get(item.name) if audit else None
        if change is not None and change is not latest:
            trail.audit_record(element, change)


class FormAudit:
    """The history of one form: its last change, and the change that last set each item."""

    def __init__(self) -> None:
        self.latest: tuple | None = None
        self.item_changes: dict[str, tuple] = {}


class AuditTrail:
    """The history rows, signatures and locks of the exported patients, read in a fixed number
    of queries: one per audited model, one each for visits, signatures, locks, users, sites."""

    def __init__(self, pks: list[int], study: Design) -> None:
        rows = Patient.objects.filter(pk__in=pks).values_list("pk", "study_id", "site__code")
        patients = {pk: study_id for pk, study_id, _site in rows}
        self.site_of = {study_id: site for _pk, study_id, site in rows}
        self.user_pks: set[int] = set()
        self.forms: dict[tuple, FormAudit] = {}
        visits = {
            pk: (patients[patient_id], code)
            for pk, patient_id, code in Visit.objects.filter(patient_id__in=pks).values_list(
                "pk", "patient_id", "code"
            )
        }
        visit_fields = {source: column for column, source in VISIT_COLUMNS.items()}
        self._read(
            Visit,
            "patient_id",
            pks,
            visit_fields,
            study.forms[VISIT_FORM],
            keys={pk: (VISIT_FORM, *target) for pk, target in visits.items()},
            by="id",
        )
        for code, model in CRF_MODELS.items():
            self._read(
                model,
                "visit__patient_id",
                pks,
                VISIT_VARIABLES[model],
                study.forms[code],
                keys={pk: (code, *target) for pk, target in visits.items()},
                by="visit_id",
            )
        for table, (model, fields) in RECORD_FIELDS.items():
            order = (
                model.objects.filter(patient_id__in=pks)
                .order_by("patient__study_id", "pk")
                .values_list("pk", "patient_id")
            )
            keys: dict[int, tuple] = {}
            counts: dict[int, int] = defaultdict(int)
            for pk, patient_id in order:
                counts[patient_id] += 1
                keys[pk] = (table, patients[patient_id], counts[patient_id])
            self._read(
                model, "patient_id", pks, {f: f for f in fields}, study.forms[table], keys, by="id"
            )
        self.signatures: dict[tuple, Any] = {}
        for signature in (
            Signature.objects.filter(patient_id__in=pks, invalidated_at__isnull=True)
            .order_by("signed_at", "pk")
            .values("pk", "patient_id", "visit__code", "signer_id", "meaning", "signed_at")
        ):
            target = (patients[signature["patient_id"]], signature["visit__code"])
            self.signatures[target] = signature  # the latest valid one
            self.user_pks.add(signature["signer_id"])
        self.locks: dict[tuple, Any] = {}
        for lock in RecordLock.objects.filter(patient_id__in=pks, unlocked_at__isnull=True).values(
            "patient_id", "visit__code", "form_code", "locked_by_id", "locked_at"
        ):
            target = (patients[lock["patient_id"]], lock["visit__code"], lock["form_code"] or None)
            self.locks[target] = lock
            self.user_pks.add(lock["locked_by_id"])
        self.meanings = sorted({s["meaning"] for s in self.signatures.values()})

    def _read(self, model, path, pks, mapping, form, keys, *, by: str) -> None:
        """Walk one model's history, oldest first, keeping per object its latest change and
        the change that last set each exported item. ``mapping``: model field -> variable;
        ``keys``: the value of ``by`` -> (form, study ID, visit code or record number)."""
        names = {item.name for item in form.items}
        columns = {}
        for field_name, variable in mapping.items():
            name = variable if variable in names else DAY_NAMES.get(variable)
            if name in names:
                columns[model._meta.get_field(field_name).attname] = name
        history = (
            model.history.model.objects.filter(**{f"{path}__in": pks})
            .order_by("id", "history_date", "history_id")
            .values_list(by, "history_date", "history_user_id", "history_change_reason", *columns)
        )
        previous: dict[tuple, list] = {}
        for owner, when, user_pk, reason, *values in history:
            key = keys.get(owner)
            if key is None:
                continue
            audit = self.forms.setdefault(key, FormAudit())
            change = (user_pk, when, reason or "", self.site_of[key[1]])
            if user_pk:
                self.user_pks.add(user_pk)
            before = previous.get(key)
            for index, name in enumerate(columns.values()):
                if before is None or before[index] != values[index]:
                    audit.item_changes[name] = change
            audit.latest = change
            previous[key] = values

    def visit_audit(self, key: str, code: str) -> FormAudit | None:
        return self.forms.get((VISIT_FORM, key, code))

    def form_audit(self, form_code: str, key: str, code: str) -> FormAudit | None:
        return self.forms.get((form_code, key, code))

    def record_audit(self, table: str, key: str, number: int) -> FormAudit | None:
        return self.forms.get((table, key, number))

    @staticmethod
    def audit_record(parent: ET.Element, change: tuple) -> None:
        user_pk, when, reason, site = change
        record = _el(parent, "AuditRecord")
        _el(record, "UserRef", UserOID=_user_oid(user_pk))
        _el(record, "LocationRef", LocationOID=oid("LOC", site))
        _el(record, "DateTimeStamp", _stamp(when))
        if reason:
            _el(record, "ReasonForChange", reason)

    def signature(self, parent: ET.Element, key: str, code: str | None) -> None:
        signature = self.signatures.get((key, code))
        if signature is None:
            return
        element = _el(parent, "Signature", ID=f"SIG.{signature['pk']}")
        _el(element, "UserRef", UserOID=_user_oid(signature["signer_id"]))
        _el(element, "LocationRef", LocationOID=oid("LOC", self.site_of[key]))
        _el(element, "SignatureRef", SignatureOID=oid("SD", signature["meaning"]))
        _el(element, "DateTimeStamp", _stamp(signature["signed_at"]))

    def lock(self, parent: ET.Element, key: str, code: str | None, form_code: str | None) -> None:
        lock = self.locks.get((key, code, form_code))
        if lock is None:
            return
        annotation = _el(parent, "Annotation", SeqNum=1)
        _el(
            annotation,
            "Comment",
            f"locked by {_user_oid(lock['locked_by_id'])} at {_stamp(lock['locked_at'])}",
            SponsorOrSite="Sponsor",
        )
        flag = _el(annotation, "Flag")
        _el(flag, "FlagValue", LOCKED, CodeListOID=LOCK_CODELIST)


def _user_oid(user_pk: int | None) -> str:
    return f"USR.{user_pk}" if user_pk else SYSTEM_USER


def _admin(root: ET.Element, trail: AuditTrail, now: datetime) -> None:
    """Users (pseudonymous OIDs and user names only), sites, and the signature meanings."""
    admin = _el(root, "AdminData", StudyOID=STUDY_OID)
    users = get_user_model().objects.filter(pk__in=trail.user_pks).order_by("pk")
    for pk, username in users.values_list("pk", "username"):
        user = _el(admin, "User", OID=_user_oid(pk))
        _el(user, "LoginName", username)
    user = _el(admin, "User", OID=SYSTEM_USER, UserType="Other")
    _el(user, "LoginName", "system")
    for code, name in Site.objects.order_by("code").values_list("code", "name"):
        location = _el(admin, "Location", OID=oid("LOC", code), Name=name, LocationType="Site")
        _el(
            location,
            "MetaDataVersionRef",
            StudyOID=STUDY_OID,
            MetaDataVersionOID=MDV_OID,
            EffectiveDate=now.date().isoformat(),
        )
    for meaning in trail.meanings:
        definition = _el(admin, "SignatureDef", OID=oid("SD", meaning), Methodology="Electronic")
        label = dict(Signature.Meaning.choices)[meaning]
        with_language = in_languages(label)
        _el(definition, "Meaning", with_language["en"])
        _el(definition, "LegalReason", "21 CFR Part 11 electronic signature (11.50)")
