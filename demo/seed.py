"""Demo accounts and sites for the quickstart (synthetic data only, never in production)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, time, timedelta
from decimal import Decimal

import numpy as np
from django.contrib.auth.models import Group, User
from django.db import transaction
from django.utils import timezone

from assessments import services as crf
from assessments.models import CRF_MODELS, AdverseEvent, LabPanel, TreatmentExposure, Visit
from assessments.schedule import VISIT_CODES, VISITS
from assessments.services import patient_record_save
from demo import synthetic
from hfs_ecrf.groups import sync_study_groups
from hfs_ecrf.roles import GROUP_NAMES, Role
from patients import services
from patients.models import (
    Consent,
    Identity,
    MedicalHistory,
    Patient,
    Screening,
    Site,
    SiteMembership,
    Withdrawal,
)
from randomisation import selectors as randomisation_selectors
from randomisation import services as randomisation_services

DEFAULT_DEMO_PASSWORD = "hfs-b12-demo-2026"  # noqa: S105 - synthetic demo accounts only

DEMO_SITES = [("SMR", "Samarkand State Medical University clinic"), ("TAS", "Tashkent clinic")]


@dataclass(frozen=True)
class DemoAccount:
    username: str
    role: Role
    site_codes: tuple[str, ...]


DEMO_ACCOUNTS = [
    DemoAccount("clinician_a", Role.CLINICIAN, ("SMR",)),
    DemoAccount("clinician_b", Role.CLINICIAN, ("TAS",)),
    DemoAccount("monitor", Role.MONITOR, ("SMR", "TAS")),
    DemoAccount("investigator", Role.INVESTIGATOR, ()),
    DemoAccount("datamanager", Role.DATA_MANAGER, ()),
]


@transaction.atomic
def seed_accounts(password: str = DEFAULT_DEMO_PASSWORD) -> dict[str, Site]:
    """Create (or reset) the demo sites and one account per role. Idempotent."""
    sync_study_groups()
    sites = {}
    for code, name in DEMO_SITES:
        site = Site.objects.filter(code=code).first()
        if site is None:
            site = Site(code=code, name=name, is_demo=True)
            site.save_audited(user=None, reason="demo data")
        sites[code] = site
    for account in DEMO_ACCOUNTS:
        user, _ = User.objects.get_or_create(username=account.username)
        user.set_password(password)
        user.is_active = True
        user.is_staff = account.role == Role.DATA_MANAGER
        user.save()
        user.groups.set([Group.objects.get(name=GROUP_NAMES[account.role])])
        for code in account.site_codes:
            if not SiteMembership.objects.filter(user=user, site=sites[code]).exists():
                SiteMembership(user=user, site=sites[code]).save_audited(
                    user=None, reason="demo data"
                )
    return sites


# --- synthetic cohort ----------------------------------------------------------------------------

DEMO_ALLOCATION_SEED = 20260103  # gives 31 : 31 for the default cohort
SCREEN_FAILURES = [
    {"exc_recent_b12": True},
    {"exc_prior_mvd": True},
    {"inc_hfs_confirmed": False},
    {"exc_movement_disorder": True},
    {"exc_pregnancy": True, "exc_recent_b12": True},
]


@dataclass
class Cohort:
    """What the steps of ``seed_cohort`` share: the request and what earlier steps made."""

    patients: int
    seed: int
    sites: dict[str, Site]
    today: date
    staff: dict[str, User] = field(default_factory=dict)
    # (patient, profile, start date, user), enrolled in order; the first ``patients`` randomised
    enrolled: list[tuple] = field(default_factory=list)
    leaving: dict[str, Patient] = field(default_factory=dict)  # arm -> the patient who withdraws

    @property
    def codes(self) -> list[str]:
        return sorted(self.sites)

    @property
    def randomised(self) -> list[tuple]:
        return self.enrolled[: self.patients]


def _staff(cohort: Cohort) -> None:
    cohort.staff = {
        code: User.objects.get(username=name)
        for code, name in (("SMR", "clinician_a"), ("TAS", "clinician_b"))
    }


def _allocation_list(cohort: Cohort) -> None:
    if randomisation_selectors.active_list() is None:
        randomisation_services.allocation_list_generate(
            seed=DEMO_ALLOCATION_SEED,
            sites=list(cohort.sites),
            per_stratum=max(20, cohort.patients),
            block_sizes=[2, 4, 6],
            user=None,
        )


def _screen_failures(cohort: Cohort) -> None:
    """Screen failures and people who decline (CONSORT), before the enrolled cohort."""
    for i, criteria in enumerate(SCREEN_FAILURES + [{"declined": True}] * 3):
        code = cohort.codes[i % len(cohort.codes)]
        screening = Screening(
            site=cohort.sites[code],
            screening_number=f"D-{i + 1:03d}",
            screened_on=cohort.today - timedelta(days=200 - i),
            **{"inc_adult": True, "inc_hfs_confirmed": True, "inc_consent_able": True, **criteria},
        )
        services.screening_record(screening=screening, user=cohort.staff[code])


def _enrol(cohort: Cohort) -> None:
    """Screen and enrol every patient; two extra stay unrandomised (awaiting baseline B12)."""
    for i in range(cohort.patients + 2):
        code = cohort.codes[i % len(cohort.codes)]
        user = cohort.staff[code]
        profile = synthetic.baseline_profile(cohort.seed, i, cohort.today)
        start = cohort.today - timedelta(days=180 - (i * 90) // max(cohort.patients, 1))
        screening = services.screening_record(
            screening=Screening(
                site=cohort.sites[code],
                screening_number=f"S-{i + 1:03d}",
                screened_on=start,
                inc_adult=True,
                inc_hfs_confirmed=True,
                inc_consent_able=True,
            ),
            user=user,
        )
        patient = services.patient_enrol(
            screening=screening,
            identity=Identity(
                full_name=f"Synthetic Person {i + 1:03d}",
                date_of_birth=profile.born,
                phone="",
                medical_record_number=f"DEMO-{i + 1:04d}",
            ),
            consent=Consent(consent_date=start, information_sheet_version="1.0 (synthetic)"),
            history=MedicalHistory(
                sex=profile.sex,
                disease_duration_months=profile.disease_duration_months,
                affected_side=profile.affected_side,
                prior_botulinum_toxin=profile.prior_botulinum_toxin,
                prior_carbamazepine=profile.prior_carbamazepine,
                diabetes=profile.diabetes,
                hypertension=profile.hypertension,
            ),
            user=user,
        )
        cohort.enrolled.append((patient, profile, start, user))


def _randomise(cohort: Cohort) -> None:
    for patient, profile, start, user in cohort.randomised:
        demo_baseline_labs(patient=patient, profile=profile, seed=cohort.seed, on=start, user=user)
        randomisation_services.patient_randomise(
            patient=patient, user=user, randomised_on=start + timedelta(days=3)
        )
    for patient, *_rest in cohort.randomised:
        patient.refresh_from_db()


def _choose_leavers(cohort: Cohort) -> None:
    """One withdrawal in each arm: the first randomised patient of each arm leaves after V1."""
    for patient, *_rest in cohort.randomised:
        cohort.leaving.setdefault(patient.allocation.arm, patient)


def _withdrawn(cohort: Cohort, patient: Patient) -> bool:
    return cohort.leaving.get(patient.allocation.arm) is patient


def _visits(cohort: Cohort) -> None:
    for patient, profile, _start, user in cohort.randomised:
        last_visit = "V1" if _withdrawn(cohort, patient) else "V3"
        demo_visits(
            patient=patient, profile=profile, seed=cohort.seed, user=user, last_visit=last_visit
        )


def _treatment(cohort: Cohort) -> None:
    for patient, profile, _start, user in cohort.randomised:
        until_day = 35 if _withdrawn(cohort, patient) else 84
        demo_treatment(
            patient=patient, profile=profile, seed=cohort.seed, user=user, until_day=until_day
        )


def _serious_event(cohort: Cohort) -> None:
    """At least one serious adverse event (with its criterion), so the safety alert shows."""
    if AdverseEvent.objects.filter(serious=True).exists() or not cohort.randomised:
        return
    patient, _profile, _start, user = next(
        (row for row in cohort.randomised if not _withdrawn(cohort, row[0])), cohort.randomised[0]
    )
    onset = patient.allocation.randomised_on + timedelta(days=20)
    patient_record_save(
        record=AdverseEvent(
            patient=patient,
            term="syncope",
            onset_on=onset,
            ended_on=onset + timedelta(days=2),
            severity="severe",
            hospitalisation=True,
            relation="unlikely",
            action="none",
            outcome="recovered",
        ),
        user=user,
    )


def _withdrawals(cohort: Cohort) -> None:
    for arm, patient in cohort.leaving.items():
        services.patient_withdraw(
            withdrawal=Withdrawal(
                patient=patient,
                withdrawn_on=patient.allocation.randomised_on + timedelta(days=40),
                reason="lost_to_follow_up" if arm == "b12" else "withdrew_consent",
            ),
            user=cohort.staff[patient.site.code],
        )


# The steps of the synthetic cohort, in order; each is small and reads what earlier ones made.
COHORT_STEPS: list[Callable[[Cohort], None]] = [
    _staff,
    _allocation_list,
    _screen_failures,
    _enrol,
    _randomise,
    _choose_leavers,
    _visits,
    _treatment,
    _serious_event,
    _withdrawals,
]


def seed_cohort(*, patients: int, seed: int, sites: dict[str, Site]) -> int:
    """A synthetic cohort built through the same services as the UI by ``COHORT_STEPS``;
    patients numbered 0..n-1 alternate between the sites. Skipped when patients exist already
    (idempotent). Returns the number of patients created."""
    if patients == 0 or Patient.objects.exists():
        return 0
    cohort = Cohort(patients=patients, seed=seed, sites=sites, today=timezone.localdate())
    for step in COHORT_STEPS:
        step(cohort)
    return len(cohort.enrolled)


def demo_baseline_labs(*, patient, profile, seed, on, user) -> None:

    panel = LabPanel(
        sample_date=on,
        b12_value=Decimal(str(round(profile.b12_baseline, 1))),
        b12_unit="pmol/L",
    )
    # Synthetic values are what they are: the seeder confirms any soft warning they raise.
    randomisation_services.baseline_b12_save(
        patient=patient, panel=panel, user=user, confirmed=True, reason="synthetic demo data"
    )


def demo_visits(*, patient, profile, seed: int, user, last_visit: str) -> None:
    """Every scheduled visit up to ``last_visit`` with its forms; about 5 % of values missing."""

    rng = np.random.default_rng([seed, profile.index, 7])
    values = synthetic.follow_up(profile, seed=seed, arm=patient.allocation.arm)
    day0 = patient.allocation.randomised_on
    for code in VISIT_CODES[: VISIT_CODES.index(last_visit) + 1]:
        spec = VISITS[code]
        offset = int(rng.integers(-spec.window, spec.window + 1)) if code != "V0" else 0
        visit = Visit.objects.filter(patient=patient, code=code).first() or Visit(
            patient=patient, code=code
        )
        visit.visit_date = day0 + timedelta(days=spec.day + offset)
        visit.status = Visit.Status.DONE
        crf.visit_save(visit=visit, user=user, reason="synthetic demo data")
        v = values[code]
        items = synthetic.questionnaire_items(
            v["distress"], seed=seed, index=profile.index, code=code
        )
        for form_code in spec.forms:
            model = CRF_MODELS[form_code]
            form = model.objects.filter(visit=visit).first() or model(visit=visit)
            if form_code == "spasm":
                for name in (
                    "vas_frequency",
                    "vas_intensity",
                    "jankovic_severity",
                    "jankovic_frequency",
                ):
                    setattr(form, name, v[name])
            elif form_code == "labs":
                form.sample_date = visit.visit_date
                form.sample_time = _demo_time(rng)
                for analyte in spec.lab_analytes:
                    canonical = LabPanel.ANALYTE_FIELDS[analyte]
                    # the baseline B12 was entered before randomisation; keep it
                    value = v[canonical] if code != "V0" or analyte != "b12" else None
                    if value is not None:
                        setattr(form, f"{analyte}_value", Decimal(str(value)))
            else:
                for item, answer in items[form_code].items():
                    setattr(form, f"q{item:02d}", answer)
            blanked = _blank_some(form, rng)
            crf.crf_save(
                form=form,
                user=user,
                action="draft" if blanked else "complete",
                reason="synthetic demo data" if form.ever_complete else "",
                confirmed=True,
            )


def _demo_time(rng):

    return time(8, int(rng.integers(0, 50)))


def _blank_some(form, rng) -> bool:
    """Now and then leave one entry value empty (that form then stays a draft)."""
    if not form.REQUIRED_FIELDS or rng.random() >= 0.06:
        return False
    setattr(form, form.REQUIRED_FIELDS[int(rng.integers(len(form.REQUIRED_FIELDS)))], None)
    return True


def demo_treatment(*, patient, profile, seed: int, user, until_day: int) -> None:
    """Weekly B12 injections in the B12 arm (some missed), standard therapy in both arms,
    and now and then an adverse event."""

    rng = np.random.default_rng([seed, profile.index, 11])
    day0 = patient.allocation.randomised_on
    patient_record_save(
        record=TreatmentExposure(
            patient=patient,
            given_on=day0,
            is_study_b12=False,
            product="carbamazepine 200 mg twice daily",
        ),
        user=user,
    )
    if patient.allocation.arm == "b12":
        for week in range(12):
            if week * 7 > until_day or rng.random() < 0.06:
                continue
            patient_record_save(
                record=TreatmentExposure(
                    patient=patient,
                    given_on=day0 + timedelta(days=7 * week),
                    is_study_b12=True,
                    product="cyanocobalamin",
                    dose_ug=Decimal("1000"),
                    route="im",
                ),
                user=user,
            )
    if rng.random() < 0.25:
        b12_arm = patient.allocation.arm == "b12"
        term = str(
            rng.choice(
                ["injection site pain", "headache"] if b12_arm else ["dizziness", "drowsiness"]
            )
        )
        onset = day0 + timedelta(days=int(rng.integers(3, until_day)))
        patient_record_save(
            record=AdverseEvent(
                patient=patient,
                term=term,
                onset_on=onset,
                ended_on=onset + timedelta(days=3),
                severity=str(rng.choice(["mild", "mild", "moderate"])),
                hospitalisation=bool(rng.random() < 0.08),
                relation=str(rng.choice(["possible", "probable", "unlikely"])),
                action="none",
                outcome="recovered",
            ),
            user=user,
        )
