"""Every note the analysis can attach to a result it could not compute, in one place.

A note is English text marked with ``gettext_noop`` (extracted into the Russian catalogue); the
results document carries it untranslated, because one document is shared by every reader, and
the page that shows it translates it with ``gettext(note)``. Tests import these constants, so a
reworded note cannot break a test and a test cannot pass on the wrong note.
"""

from __future__ import annotations

from analysis.stats.common import gettext_noop

# a whole section of the results document
SECTION_FAILED = gettext_noop(
    "This section could not be computed on the current data; the rest of the results are "
    "unaffected. The error has been logged for the data manager."
)

# estimates that cannot be computed on the data at hand
ARM_WITHOUT_PAIRS = gettext_noop("An arm has no patient with both values.")
COLLINEAR = gettext_noop("Too few patients or collinear predictors.")
TWO_PER_ARM = gettext_noop("Each arm needs at least two patients.")
NO_DATA = gettext_noop(
    "No data for this outcome: not estimable (it keeps its place in its family)."
)
TOO_FEW_FOR_CORRELATION = gettext_noop("Too few patients or a constant variable.")
CONTROL_CONSTANT = gettext_noop("The control variable does not vary.")
RESPONDERS_BOTH_NEEDED = gettext_noop("Responders and non-responders are both needed in the data.")
LOGIT_FAILED = gettext_noop("The logistic regression could not be fitted.")
LOGIT_SEPARATION = gettext_noop(
    "The logistic regression did not converge (near-complete separation: too few responders "
    "in one arm)."
)
SUBGROUPS_BOTH_ARMS = gettext_noop("Both subgroups need patients in both arms.")

# repeated measures
MIXED_TOO_FEW = gettext_noop("Too few patients, or only one arm, with follow-up values.")
MIXED_NOT_IDENTIFIABLE = gettext_noop(
    "The random intercept is not identifiable: no patient has more than one follow-up value "
    "(at least two follow-up visits are needed to separate patient and residual variance). "
    "No estimates are reported."
)
MIXED_NOT_CONVERGED = gettext_noop(
    "The mixed model did not converge to a valid fit (Hessian not positive definite or the "
    "optimiser failed), so its estimates cannot be trusted and are not reported."
)

# multiple imputation
MI_TOO_FEW = gettext_noop("Too few observed values to impute.")
MI_FAILED = gettext_noop("The imputation failed.")
MI_NOTHING_MISSING = gettext_noop(
    "Nothing is missing: every imputed data set equals the observed one, so the pooled result "
    "is the complete-case result."
)
MI_COVARIATE_DROPPED = gettext_noop(
    "A covariate without any observed value was left out of the imputation model."
)
