"""Loads a large synthetic trial straight into PostgreSQL with COPY, for benchmarks only.

Clinical writes normally go through the audited services; a benchmark of 10 000 patients would
spend hours in them, so this loader writes the tables directly (no history rows) into a
throwaway database. Never point it at a real one. The audited tables' write guard
(hfs_ecrf/dbguard.py) is passed the way ``audited_write`` passes it: the transaction-local flag,
set inside the loader's own transaction; nothing is disabled.

Rows are written in batches of patients (memory stays flat at 50 000 patients) and carry the
states an export must reproduce: a draft form now and then, missing-data codes, verified and
changed forms, locks, withdrawals, missed visits and text that a spreadsheet would run.
"""

from __future__ import annotations

import csv
import io
import json
from contextlib import contextmanager
from datetime import date, timedelta

import numpy as np
from django.db import connection, transaction
from django.utils import timezone

from assessments.models import Hads, Hdrs17, LabPanel, Rand36, SpasmAssessment, Visit
from hfs_ecrf.audit import FLAG
from monitoring.models import FormVerification, RecordLock
from patients.models import (
    Allocation,
    AllocationList,
    AllocationSlot,
    Consent,
    MedicalHistory,
    Patient,
    Screening,
    Site,
    Withdrawal,
)

# Site sizes chosen so that 62, 1 000, 10 000 and 50 000 patients are unions of whole sites.
SITES = {"AAA": 62, "BBB": 938, "CCC": 9000, "DDD": 40000}
BATCH = 5000  # patients written per COPY round


def sites_upto(patients: int) -> dict[str, int]:
    """The first sites of SITES holding ``patients`` patients in all."""
    chosen, total = {}, 0
    for code, count in SITES.items():
        if total >= patients:
            break
        chosen[code] = count
        total += count
    return chosen


def copy_rows(model, rows: list[dict]) -> None:
    fields = model._meta.concrete_fields
    out = io.StringIO()
    writer = csv.writer(out)
    for row in rows:
        values = []
        for f in fields:
            value = row.get(f.attname, row.get(f.name, None if f.null else f.get_default()))
            if isinstance(value, dict):
                value = json.dumps(value)
            values.append(r"\N" if value is None else value)
        writer.writerow(values)
    out.seek(0)
    columns = ",".join(f'"{f.column}"' for f in fields)
    with connection.cursor() as cursor:
        cursor.cursor.copy_expert(
            f"COPY \"{model._meta.db_table}\" ({columns}) FROM STDIN WITH (FORMAT csv, NULL '\\N')",
            out,
        )


@contextmanager
def guarded_copy():
    """One transaction in which COPY may write the audited tables: the write guard's
    transaction-local flag, set as ``audited_write`` sets it."""
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config(%s, 'on', true)", [FLAG])
        yield


def load(user_id: int, seed: int = 1, patients: int | None = None) -> int:
    """Load the first sites of SITES (all, or those holding ``patients``); the patient count."""
    with guarded_copy():
        total = _load(user_id, seed, sites_upto(patients) if patients else SITES)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return total


def _load(user_id: int, seed: int, sites: dict[str, int]) -> int:
    rng = np.random.default_rng(seed)
    now = timezone.now()
    day0 = date(2026, 1, 15)
    copy_rows(
        Site, [{"id": i + 1, "code": code, "name": f"Bench {code}"} for i, code in enumerate(sites)]
    )
    copy_rows(
        AllocationList, [{"id": 1, "created_at": now, "source": "generated", "is_active": True}]
    )
    tables: dict[type, list[dict]] = {}
    pid = vid = 0
    for site_id, (code, count) in enumerate(sites.items(), start=1):
        for k in range(1, count + 1):
            if pid and pid % BATCH == 0:
                _flush(tables)
            pid += 1
            screening = tables.setdefault(Screening, [])
            patients = tables.setdefault(Patient, [])
            consents = tables.setdefault(Consent, [])
            histories = tables.setdefault(MedicalHistory, [])
            slots = tables.setdefault(AllocationSlot, [])
            allocations = tables.setdefault(Allocation, [])
            visits = tables.setdefault(Visit, [])
            spasm = tables.setdefault(SpasmAssessment, [])
            panels = tables.setdefault(LabPanel, [])
            rand36 = tables.setdefault(Rand36, [])
            hads = tables.setdefault(Hads, [])
            hdrs = tables.setdefault(Hdrs17, [])
            withdrawals = tables.setdefault(Withdrawal, [])
            verifications = tables.setdefault(FormVerification, [])
            locks = tables.setdefault(RecordLock, [])
            arm = "b12" if rng.random() < 0.5 else "standard"
            b12 = float(rng.lognormal(np.log(235), 0.42))
            base_f = float(np.clip(62 - 0.09 * (b12 - 235) + rng.normal(0, 11), 15, 100))
            screening.append(
                {
                    "id": pid,
                    "site_id": site_id,
                    "screening_number": f"S{k}",
                    "screened_on": day0 - timedelta(days=10),
                    "inc_adult": True,
                    "inc_hfs_confirmed": True,
                    "inc_consent_able": True,
                    "outcome": "eligible",
                    "failure_reasons": "",
                    "screened_by_id": user_id,
                }
            )
            patients.append(
                {
                    "id": pid,
                    "study_id": f"{code}-{k:05d}",
                    "site_id": site_id,
                    "sequence": k,
                    "screening_id": pid,
                    "age_at_consent": int(rng.integers(20, 80)),
                    "enrolled_at": now,
                }
            )
            consents.append(
                {
                    "id": pid,
                    "patient_id": pid,
                    "consent_date": day0 - timedelta(5),
                    "information_sheet_version": "1",
                    "taken_by_id": user_id,
                }
            )
            histories.append(
                {
                    "id": pid,
                    "patient_id": pid,
                    "sex": "female" if rng.random() < 0.6 else "male",
                    "disease_duration_months": int(rng.integers(3, 200)),
                    "affected_side": "left",
                    # text a spreadsheet would run, with a comma and a quote
                    "other_treatment": '=1+1, "gabapentin"' if pid % 53 == 0 else "",
                }
            )
            if pid % 40 == 0:
                withdrawals.append(
                    {
                        "id": pid,
                        "patient_id": pid,
                        "withdrawn_on": day0 + timedelta(days=60),
                        "reason": "other",
                        "reason_other": "moved, away",
                        "recorded_by_id": user_id,
                    }
                )
            if pid % 100 == 0:  # a whole-patient lock
                locks.append(
                    {
                        "id": pid,
                        "patient_id": pid,
                        "form_code": "",
                        "locked_by_id": user_id,
                        "locked_at": now,
                    }
                )
            slots.append(
                {
                    "id": pid,
                    "allocation_list_id": 1,
                    "site_id": site_id,
                    "b12_deficient": b12 < 148,
                    "sequence": k,
                    "block": k,
                    "block_size": 2,
                    "arm": arm,
                }
            )
            allocations.append(
                {
                    "id": pid,
                    "patient_id": pid,
                    "slot_id": pid,
                    "arm": arm,
                    "randomised_at": now,
                    "randomised_on": day0,
                }
            )
            drop = 0.32 if arm == "b12" else 0.14
            for i, (visit_code, day) in enumerate((("V0", 0), ("V1", 28), ("V2", 56), ("V3", 84))):
                vid += 1
                if visit_code == "V2" and pid % 29 == 0:
                    visits.append(
                        {
                            "id": vid,
                            "patient_id": pid,
                            "code": visit_code,
                            "status": "missed",
                            "missed_reason": "travel",
                            "version": 1,
                        }
                    )
                    continue
                visits.append(
                    {
                        "id": vid,
                        "patient_id": pid,
                        "code": visit_code,
                        "visit_date": day0 + timedelta(days=day + (9 if pid % 23 == 0 else 0)),
                        "status": "done",
                        "out_of_window": pid % 23 == 0,
                        "version": 1,
                    }
                )
                if visit_code == "V0" and pid % 10 == 0:
                    verifications.append(
                        {
                            "id": vid,
                            "visit_id": vid,
                            "form_code": "spasm",
                            "status": "changed" if pid % 70 == 0 else "verified",
                            "verified_by_id": user_id,
                            "verified_at": now,
                            "verified_version": 1,
                        }
                    )
                if visit_code == "V1" and pid % 90 == 0:  # a form lock
                    locks.append(
                        {
                            "id": 1_000_000 + vid,
                            "patient_id": pid,
                            "visit_id": vid,
                            "form_code": "labs",
                            "locked_by_id": user_id,
                            "locked_at": now,
                        }
                    )
                freq = int(np.clip(base_f * (1 - drop * i / 3) + rng.normal(0, 3), 0, 100))
                common = {
                    "id": vid,
                    "visit_id": vid,
                    "status": "complete",
                    "version": 1,
                    "updated_at": now,
                    "ever_complete": True,
                }
                coded = visit_code == "V2" and pid % 37 == 0
                spasm.append(
                    {
                        **common,
                        "status": "draft" if visit_code == "V1" and pid % 31 == 0 else "complete",
                        "missing_codes": {"spasm_count": "ND"} if coded else {},
                        "vas_frequency": freq,
                        "vas_intensity": int(np.clip(0.7 * freq + 15, 0, 100)),
                        "jankovic_severity": 2,
                        "jankovic_frequency": 2,
                        "jankovic_total": 4,
                    }
                )
                if visit_code in ("V0", "V1", "V3"):
                    value = round(b12 * (1 + (1.3 if arm == "b12" else 0) * i / 3), 3)
                    panels.append(
                        {
                            **common,
                            "b12_value": value,
                            "b12_unit": "pmol/L",
                            "b12_pmol_l": value,
                            "sample_date": day0 + timedelta(day),
                            "cortisol_value": 400.0,
                            "cortisol_nmol_l": 400.0,
                            "dopamine_value": 200.0,
                            "dopamine_pmol_l": 200.0,
                        }
                    )
                if visit_code in ("V0", "V3"):
                    distress = float(np.clip(0.3 + 0.005 * (freq - 60), 0, 1))
                    items = {f"q{j:02d}": int(rng.integers(1, 3)) for j in range(1, 37)}
                    rand36.append(
                        {
                            **common,
                            **items,
                            "pf": 60.0,
                            "rp": 50.0,
                            "re": 50.0,
                            "ef": 50.0,
                            "ew": 60.0,
                            "sf": 60.0,
                            "bp": 60.0,
                            "gh": 55.0,
                            "pcs": float(45 - 5 * distress),
                            "mcs": float(45 - 10 * distress),
                        }
                    )
                    hads_items = {f"q{j:02d}": int(distress * 3) for j in range(1, 15)}
                    hads.append(
                        {
                            **common,
                            **hads_items,
                            "anxiety": 7.0 * distress * 3,
                            "depression": 7.0 * distress * 2.5,
                        }
                    )
                    hdrs_items = {f"q{j:02d}": 1 for j in range(1, 18)}
                    hdrs.append(
                        {
                            **common,
                            **hdrs_items,
                            "q16_not_assessed": False,
                            "total": int(17 * distress * 1.5),
                        }
                    )
    _flush(tables)
    return pid


def _flush(tables: dict[type, list[dict]]) -> None:
    """COPY the rows gathered so far, parents before children, and forget them."""
    order = [
        Screening,
        Patient,
        Consent,
        MedicalHistory,
        AllocationSlot,
        Allocation,
        Withdrawal,
        Visit,
        SpasmAssessment,
        LabPanel,
        Rand36,
        Hads,
        Hdrs17,
        FormVerification,
        RecordLock,
    ]
    for model in order:
        rows = tables.get(model)
        if rows:
            copy_rows(model, rows)
            rows.clear()
