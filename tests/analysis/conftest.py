from __future__ import annotations

import pytest

from demo.seed import seed_accounts, seed_cohort


@pytest.fixture
def cohort(db):
    """A small seeded cohort at every site (the export tests; test_results_views has its own)."""
    sites = seed_accounts("cohort-password-1")
    seed_cohort(patients=8, seed=3, sites=sites)
    return sites
