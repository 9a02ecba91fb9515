from __future__ import annotations

from demo.seed import seed_accounts, seed_cohort
from monitoring.demo import seed_monitoring
from monitoring.models import DataQuery, FormVerification, RecordLock


def test_demo_data_show_every_query_state_and_verified_and_locked_forms(db):
    sites = seed_accounts("demo-password-123")
    seed_cohort(patients=8, seed=3, sites=sites)
    assert seed_monitoring() > 0
    states = set(DataQuery.objects.filter(origin="manual").values_list("status", flat=True))
    assert states == {"open", "answered", "closed"}
    assert FormVerification.objects.filter(status="verified").exists()
    assert RecordLock.objects.filter(unlocked_at__isnull=True).exists()
    assert seed_monitoring() == 0  # idempotent
