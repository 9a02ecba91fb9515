"""The analysis plan's choices in one place (SAP): outcomes, families, predictors. Pure data."""

from __future__ import annotations

from assessments.instruments import labs

PRIMARY = "vas_frequency"
BASELINE_VISIT, PRIMARY_VISIT = "V0", "V3"
RESPONDER_REDUCTION_PERCENT = 50.0
B12_DEFICIENT_BELOW_PMOL_L = float(labs.B12_DEFICIENT_BELOW)  # the one threshold: instruments/labs
PLANNED_B12_DOSES = 12  # weekly injections over 12 weeks; per protocol needs ≥ 80 %
PER_PROTOCOL_DOSE_FRACTION = 0.8
# Multiple imputation for the primary ANCOVA (SAP §10): m imputed data sets by chained equations
# after a burn-in of full cycles, with a fixed seed so the result reproduces exactly. Predictive
# mean matching draws each imputed value from the MI_PMM_DONORS observed values whose predicted
# means are closest; 5 is the SAP's choice (and the default of R's mice). More donors pull the
# imputations toward the overall mean: with ~60 observed outcomes 20 donors span a third of
# the sample and shrink the imputed arm difference toward no effect.
MI_IMPUTATIONS = 20
MI_SEED = 20260101
MI_PMM_DONORS = 5
MI_BURN_IN = 10
MI_COVARIATES = ("b12_pmol_l__V0", "age")  # predictors in the imputation model

# Only forms at these statuses enter the analysis dataset (SAP §4): drafts (and forms marked
# "not done") are left out by rule, and the number of drafts left out is reported. Source data
# verification and locking (monitoring) are records beside the form and leave its status as it
# was: a verified or locked form is still "complete" (a form can be locked only when complete or
# not done), so it is analysed. The export's <form>_verified and <form>_locked columns say which.
ANALYSABLE_FORM_STATUSES = ("complete",)

KEY_SECONDARY = ["vas_intensity", "hads_a", "hads_d", "hdrs_total", "rand36_pcs", "rand36_mcs"]
EXPLORATORY = [
    "b12_pmol_l",
    "cortisol_nmol_l",
    "dopamine_pmol_l",
    "rand36_pf",
    "rand36_rp",
    "rand36_re",
    "rand36_ef",
    "rand36_ew",
    "rand36_sf",
    "rand36_bp",
    "rand36_gh",
    "jankovic_total",
]
FAMILIES = {"key_secondary": KEY_SECONDARY, "exploratory": EXPLORATORY}
FAMILY_ADJUSTMENT = {"key_secondary": "holm", "exploratory": "fdr_bh"}

REGRESSION_OUTCOMES = ["vas_intensity", "hdrs_total", "hads_total"]
REGRESSION_PREDICTORS = [
    "treat",
    "baseline",
    "b12_pmol_l__V0",
    "age",
    "male",
    "disease_duration_months",
]
CHANGE_MATRIX = [
    "vas_frequency",
    "vas_intensity",
    "b12_pmol_l",
    "cortisol_nmol_l",
    "dopamine_pmol_l",
    "hads_a",
    "hads_d",
    "hdrs_total",
    "rand36_pcs",
    "rand36_mcs",
]

BASELINE_CONTINUOUS = [
    "age",
    "disease_duration_months",
    "b12_pmol_l__V0",
    "vas_frequency__V0",
    "vas_intensity__V0",
    "jankovic_total__V0",
    "cortisol_nmol_l__V0",
    "dopamine_pmol_l__V0",
    "hads_a__V0",
    "hads_d__V0",
    "hdrs_total__V0",
    "rand36_pcs__V0",
    "rand36_mcs__V0",
]
BASELINE_CATEGORICAL = [
    "sex",
    "affected_side",
    "b12_deficient_baseline",
    "prior_botulinum_toxin",
    "prior_carbamazepine",
    "diabetes",
    "hypertension",
    "site",
]
