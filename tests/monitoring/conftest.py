from __future__ import annotations

import pytest

from assessments.models import LabPanel
from tests import factories


@pytest.fixture
def smr_patient(alice, site_a, site_b):
    """A randomised SMR patient with a V0 lab panel (entered by Alice)."""
    factories.allocation_list(["SMR", "TAS"], per_stratum=4)
    return factories.randomised(site_a, alice)


def lab_panel(patient) -> LabPanel:
    return LabPanel.objects.get(visit__patient=patient, visit__code="V0")


def complete_labs(patient, user, b12: str = "250") -> LabPanel:
    from decimal import Decimal

    from assessments.services import crf_save

    panel = lab_panel(patient)
    panel.b12_value = Decimal(b12)
    panel.cortisol_value = Decimal("400")
    panel.sample_time = panel.sample_time or __import__("datetime").time(9, 0)
    panel.dopamine_value = Decimal("100")
    return crf_save(
        form=panel, user=user, action="complete", reason="completed" if panel.ever_complete else ""
    )
