"""What the dashboards build from a stored result, kept per result: a page or the results JSON
asked again is served without reading the stored document and figures again, parsing,
tabulating or rendering them.

A stored result never changes once written (``analysis.services.results_refresh`` creates it;
carrying it over to a newer data version changes its ``data_version`` only, which is not in what
is kept). So what is built from it stays right for as long as that result is the one shown, and
the key holds exactly that: the result (its id, the time it was computed and its dataset hash,
so a row created again with a reused id never meets another's entry), the page and the
language. What depends on anything else is never kept: the current data version, "newer data
being analysed", the database lock's note, the layout around the page (user, messages, CSRF
token). A new stored result has a new key, so it shows at once; old entries age out.

Per process, in memory (the ``analysis`` cache), like the list pages' content
(``hfs_ecrf.list_cache``); ``ANALYSIS_CACHE_SECONDS=0`` turns it off.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, TypeVar

from django.conf import settings
from django.core.cache import caches
from django.core.serializers.json import DjangoJSONEncoder

from analysis.models import AnalysisResult

CACHE = "analysis"
T = TypeVar("T")
# the results JSON as it has always been written (JsonResponse's encoder and these parameters)
JSON_PARAMS: dict[str, Any] = {"cls": DjangoJSONEncoder, "ensure_ascii": False, "indent": 1}


def result_key(result: AnalysisResult) -> str:
    """What identifies a stored result's content for good."""
    return f"{result.pk}:{result.computed_at.isoformat()}:{result.dataset_sha256}"


def kept(result: AnalysisResult, what: str, build: Callable[[], T]) -> T:
    """``build()``, or what it returned for the same ``what`` of the same stored ``result``
    earlier (``what`` names the page and the language, or the JSON)."""
    seconds = settings.ANALYSIS_CACHE_SECONDS
    if not seconds:
        return build()
    key = f"analysis:{what}:{result_key(result)}"
    cache = caches[CACHE]
    value = cache.get(key)
    if value is None:
        value = build()
        cache.set(key, value, seconds)
    return value


def _dumps(value: dict[str, Any]) -> bytes:
    return json.dumps(value, **JSON_PARAMS).encode()


def results_json_bytes(result: AnalysisResult, live: dict[str, Any]) -> bytes:
    """The results JSON: ``live`` (the fields that follow the data version and the lock), then
    the stored document, in one object, byte for byte ``json.dumps({**live, **document})``.

    The document's part is serialised once per stored result and kept; only ``live`` is
    serialised per request and the two are joined (a document without keys, or sharing a key
    with ``live``, is serialised whole as before)."""

    def document_part() -> tuple[bytes, frozenset[str]]:
        document = result.document
        return _dumps(document), frozenset(document)

    document, keys = kept(result, "json", document_part)
    if not keys or not live or keys & set(live):
        return _dumps({**live, **json.loads(document)})
    head = _dumps(live)
    # "{\n <live items>\n}" and "{\n <document items>\n}" -> "{\n <live>,\n <document>\n}"
    return head[:-2] + b",\n" + document[2:]
