"""Synthetic patients for the demo cohort. Pure numpy, no Django imports.

The numbers are invented to look like the abstract's trial: baseline B12 lower in people with
more frequent spasms; spasm frequency falling about 32 % by week 12 with B12 and about 14 % with
standard therapy; B12 rising in the B12 arm; distress improving more with B12.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np


@dataclass
class Profile:
    index: int
    sex: str
    born: date
    disease_duration_months: int
    affected_side: str
    prior_botulinum_toxin: bool
    prior_carbamazepine: bool
    diabetes: bool
    hypertension: bool
    b12_baseline: float  # pmol/L
    vas_frequency_baseline: float
    distress: float  # latent 0..1, higher = more anxious/depressed
    visits: dict[str, dict] = field(default_factory=dict)


def _rng(seed: int, index: int) -> np.random.Generator:
    return np.random.default_rng([seed, index])


def baseline_profile(seed: int, index: int, today: date) -> Profile:
    rng = _rng(seed, index)
    age = float(np.clip(rng.normal(52, 11), 22, 80))
    born = today - timedelta(days=int(age * 365.25) + int(rng.integers(0, 300)))
    b12 = float(np.clip(rng.lognormal(np.log(235), 0.42), 70, 900))
    # Lower B12 goes with more frequent spasms.
    frequency = float(np.clip(62 - 0.09 * (b12 - 235) + rng.normal(0, 11), 15, 100))
    distress = float(np.clip(0.25 + 0.006 * (frequency - 60) + rng.normal(0, 0.15), 0, 1))
    return Profile(
        index=index,
        sex="female" if rng.random() < 0.66 else "male",
        born=born,
        disease_duration_months=int(np.clip(rng.lognormal(np.log(30), 0.7), 3, 300)),
        affected_side=str(rng.choice(["left", "right", "bilateral"], p=[0.52, 0.44, 0.04])),
        prior_botulinum_toxin=bool(rng.random() < 0.4),
        prior_carbamazepine=bool(rng.random() < 0.3),
        diabetes=bool(rng.random() < 0.12),
        hypertension=bool(rng.random() < 0.3),
        b12_baseline=b12,
        vas_frequency_baseline=frequency,
        distress=distress,
    )


FRACTION_OF_EFFECT = {"V0": 0.0, "V1": 0.4, "V2": 0.75, "V3": 1.0}
MEAN_REDUCTION = {"standard": 0.17, "b12": 0.34}


def follow_up(profile: Profile, *, seed: int, arm: str) -> dict[str, dict]:
    """Per visit: VAS frequency/intensity, Jankovic, B12, cortisol, dopamine and the latent
    distress that the questionnaires are drawn from."""
    rng = _rng(seed, 10_000 + profile.index)
    reduction = float(np.clip(rng.normal(MEAN_REDUCTION[arm], 0.12), -0.2, 0.9))
    b12_gain = float(rng.normal(2.3, 0.4)) if arm == "b12" else float(rng.normal(1.02, 0.08))
    distress_gain = 0.35 if arm == "b12" else 0.12
    base_f = profile.vas_frequency_baseline
    visits = {}
    for code, fraction in FRACTION_OF_EFFECT.items():
        frequency = base_f * (1 - reduction * fraction) + (rng.normal(0, 3) if fraction else 0)
        frequency = float(np.clip(round(frequency), 0, 100))
        intensity = float(np.clip(round(0.7 * frequency + 15 + rng.normal(0, 6)), 0, 100))
        b12 = profile.b12_baseline * (1 + (b12_gain - 1) * min(fraction * 1.3, 1.0))
        distress = float(
            np.clip(profile.distress * (1 - distress_gain * fraction) + rng.normal(0, 0.04), 0, 1)
        )
        visits[code] = {
            "vas_frequency": int(frequency),
            "vas_intensity": int(intensity),
            "jankovic_severity": int(np.clip(round(intensity / 25), 0, 4)),
            "jankovic_frequency": int(np.clip(round(frequency / 25), 0, 4)),
            "b12_pmol_l": round(float(b12 * rng.normal(1, 0.05)), 1),
            "cortisol_nmol_l": round(
                float(np.clip(rng.normal(420 + 120 * distress, 90), 120, 800)), 1
            ),
            "dopamine_pmol_l": round(
                float(np.clip(rng.normal(180 + 60 * distress, 40), 40, 600)), 1
            ),
            "distress": distress,
        }
    return visits


def questionnaire_items(distress: float, *, seed: int, index: int, code: str) -> dict:
    """RAND-36, HADS and HDRS-17 item answers drawn around a latent distress level."""
    rng = np.random.default_rng([seed, index, sum(map(ord, code))])
    health = 1 - distress

    def pick(k: int, good_high: bool) -> int:
        latent = np.clip(health + rng.normal(0, 0.18), 0, 1)
        position = int(round(latent * (k - 1)))
        return position + 1 if good_high else k - position

    rand36 = {}
    good_high = {
        **{i: True for i in range(3, 20)},
        24: True,
        25: True,
        28: True,
        29: True,
        31: True,
        32: True,
        33: False,
        35: False,
    }
    sizes = {
        1: 5,
        2: 5,
        **{i: 3 for i in range(3, 13)},
        **{i: 2 for i in range(13, 20)},
        20: 5,
        21: 6,
        22: 5,
        **{i: 6 for i in range(23, 32)},
        **{i: 5 for i in range(32, 37)},
    }
    for item, k in sizes.items():
        rand36[item] = pick(k, good_high.get(item, False))
    hads = {i: int(np.clip(round(distress * 3 + rng.normal(0, 0.5)), 0, 3)) for i in range(1, 15)}
    maxima = {4: 2, 5: 2, 6: 2, 12: 2, 13: 2, 14: 2, 16: 2, 17: 2}
    hdrs = {
        i: int(
            np.clip(
                round(distress * maxima.get(i, 4) * 0.8 + rng.normal(0, 0.5)), 0, maxima.get(i, 4)
            )
        )
        for i in range(1, 18)
    }
    return {"rand36": rand36, "hads": hads, "hdrs": hdrs}
