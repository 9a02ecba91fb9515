"""The list pages' cheap paths give what the expensive ones gave: URLs built from one reverse()
per pattern equal reverse()'s, and templates come from the cached loader."""

from __future__ import annotations

import pytest
from django.template import engines
from django.template.loaders.cached import Loader as CachedLoader
from django.urls import NoReverseMatch, reverse

from hfs_ecrf.lists import UrlPattern

IDS = ["AAA-00001", "a b?c#d", "ж-1", "x%y", "@:~!$&()*+,;=", "<b>'\""]


@pytest.mark.parametrize("study_id", IDS)
def test_url_pattern_equals_reverse(study_id):
    crf = UrlPattern("assessments:crf", 3)
    assert crf(study_id, "V1", "spasm") == reverse(
        "assessments:crf", args=(study_id, "V1", "spasm")
    )
    detail = UrlPattern("monitoring:patient_detail", 1)
    assert detail(study_id) == reverse("monitoring:patient_detail", args=(study_id,))


@pytest.mark.parametrize("bad", ["", "a/b"])
def test_url_pattern_refuses_what_reverse_refuses(bad):
    with pytest.raises(NoReverseMatch):
        UrlPattern("monitoring:patient_detail", 1)(bad)


def test_templates_come_from_the_cached_loader():
    loaders = engines["django"].engine.template_loaders
    assert len(loaders) == 1 and isinstance(loaders[0], CachedLoader)
