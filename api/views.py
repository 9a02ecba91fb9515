"""The REDCap-compatible API: one URL, POST, form-encoded, ``token`` and ``content`` say who
and what. Errors come in REDCap's shape (``{"error": "..."}`` in JSON, ``ERROR: ...`` in CSV,
``<hash><error>`` in XML) with REDCap's status codes; every call is logged; calls are limited
per token and minute."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta
from typing import Any
from xml.sax.saxutils import escape

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt

from api import logs, project, records
from api.importing import RecordImportError, records_import
from api.models import ApiCall
from api.tokens import token_find
from hfs_ecrf.access import arm_visible, can
from patients.selectors import sites_for

REDCAP_VERSION = "14.0.0"  # the version of REDCap's API protocol this server speaks
FORMATS = ("json", "csv", "xml")
UNSUPPORTED_FILTERS = ("filterLogic", "dateRangeBegin", "dateRangeEnd")


class ApiError(Exception):
    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.message, self.status = message, status


def _rate_limit() -> int:
    return int(getattr(settings, "API_RATE_LIMIT_PER_MINUTE", 600))


def _param_list(post, name: str) -> list[str] | None:
    """REDCap arrays: ``name[0]=a&name[1]=b``, or ``name=a,b``."""
    indexed = sorted(
        ((int(k[len(name) + 1 : -1]), v) for k, v in post.items() if _is_index(k, name)),
    )
    values = [v for _i, v in indexed]
    if not values and post.get(name, "").strip():
        values = [v.strip() for v in post[name].split(",")]
    values = [v for v in values if v != ""]
    return values or None


def _is_index(key: str, name: str) -> bool:
    return key.startswith(f"{name}[") and key.endswith("]") and key[len(name) + 1 : -1].isdigit()


def _ip(request: HttpRequest) -> str | None:
    return request.META.get("REMOTE_ADDR") or None


@csrf_exempt
@login_not_required
def api(request: HttpRequest) -> HttpResponse:
    # Scripts written for REDCap read its English messages and labels: the API speaks English
    # whatever the interface's language (Russian labels are in the data dictionary, label_ru).
    with translation.override("en"):
        return _api(request)


def _api(request: HttpRequest) -> HttpResponse:
    post = request.POST
    content = post.get("content", "").strip()
    action = post.get("action", "export").strip() or "export"
    method = content if action == "export" else f"{content}:{action}"
    error_format = post.get("returnFormat") or post.get("format") or "xml"
    call = {"method": method[:60], "records": [], "detail": "", "ip_address": _ip(request)}
    token = None
    try:
        if request.method != "POST":
            raise ApiError(_("The API answers POST requests only."), 405)
        token = token_find(post.get("token", ""))
        if token is not None:  # a revoked or expired token is logged with its user
            call["token"], call["user"] = token, token.user
        if token is None or not token.is_usable():
            raise ApiError(_("You do not have permissions to use the API"), 403)
        since = timezone.now() - timedelta(minutes=1)
        if ApiCall.objects.filter(token=token, at__gte=since).count() >= _rate_limit():
            raise ApiError(
                _("Too many calls: at most %(n)s per minute for one token. Wait and retry.")
                % {"n": _rate_limit()},
                429,
            )
        response, touched = _dispatch(request, token.user, content, action)
        call["records"] = touched
        status = response.status_code
        token.last_used_at = timezone.now()
        token.save(update_fields=["last_used_at"])
    except ApiError as error:
        response = _error(error.message, error.status, error_format)
        status, call["detail"] = error.status, error.message
    ApiCall.objects.create(status=status, **call)
    return response


def _error(message: str, status: int, fmt: str) -> HttpResponse:
    if fmt == "json":
        return HttpResponse(
            json.dumps({"error": message}, ensure_ascii=False),
            status=status,
            content_type="application/json; charset=utf-8",
        )
    if fmt == "csv":
        return HttpResponse(f"ERROR: {message}", status=status, content_type="text/csv")
    body = (
        '<?xml version="1.0" encoding="UTF-8" ?>\n'
        f"<hash>\n  <error>{escape(message)}</error>\n</hash>"
    )
    return HttpResponse(body, status=status, content_type="text/xml; charset=utf-8")


def _format(post, default: str = "xml") -> str:
    fmt = (post.get("format") or default).strip().lower()
    if fmt not in FORMATS:
        raise ApiError(_('The value of the parameter "format" is not valid; use json, csv or xml.'))
    return fmt


def render(data: Any, fmt: str, *, root: str = "records") -> HttpResponse:
    if fmt == "json":
        return HttpResponse(
            json.dumps(data, ensure_ascii=False, default=str),
            content_type="application/json; charset=utf-8",
        )
    rows = data if isinstance(data, list) else [data]
    if fmt == "csv":
        out = io.StringIO()
        if rows:
            writer = csv.DictWriter(out, list(rows[0]), lineterminator="\n")
            writer.writeheader()
            writer.writerows(rows)
        return HttpResponse(out.getvalue(), content_type="text/csv; charset=utf-8")
    items = "".join(
        "<item>" + "".join(f"<{k}>{escape(str(v))}</{k}>" for k, v in row.items()) + "</item>"
        for row in rows
    )
    body = f'<?xml version="1.0" encoding="UTF-8" ?>\n<{root}>{items}</{root}>'
    return HttpResponse(body, content_type="text/xml; charset=utf-8")


def _site_codes(user) -> list[str] | None:
    if can(user, "view_all_sites") and can(user, "view_study_data"):
        return None
    return list(sites_for(user).values_list("code", flat=True))


def _dispatch(request, user, content: str, action: str) -> tuple[HttpResponse, list[str]]:
    post = request.POST
    if not can(user, "view_study_data"):
        raise ApiError(_("You do not have permissions to use the API"), 403)
    if action not in ("export", "import") or (action == "import" and content != "record"):
        raise ApiError(
            _("This server does not support %(content)s %(action)s through the API.")
            % {"content": content or "-", "action": action}
        )
    if content == "version":
        return HttpResponse(REDCAP_VERSION, content_type="text/plain"), []
    if content == "record":
        if action == "import" or post.get("data"):
            return _import_records(post, user)
        return _export_records(post, user)
    if content == "log":
        return _export_log(post, user)
    if content == "user":
        if not can(user, "export_data"):
            raise ApiError(_("You do not have User Rights privileges."), 403)
        return render(logs.users(), _format(post)), []
    simple = {
        "project": lambda: project.project_info(translation.get_language() or ""),
        "metadata": lambda: project.metadata(
            _param_list(post, "fields"), _param_list(post, "forms")
        ),
        "instrument": project.instrument_rows,
        "event": project.events,
        "arm": lambda: [{"arm_num": project.ARM_NUM, "name": _("Study")}],
        "formEventMapping": project.form_event_mapping,
        "repeatingFormsEvents": project.repeating_forms_events,
        "exportFieldNames": lambda: _field_names(post),
    }
    if content not in simple:
        raise ApiError(
            _('The value of the parameter "content" is not valid (supported: %(names)s).')
            % {"names": ", ".join(["version", "record", "log", "user", *simple])}
        )
    return render(simple[content](), _format(post)), []


def _field_names(post) -> list[dict[str, str]]:
    name = post.get("field", "").strip()
    rows = project.export_field_names(name or None)
    if name and not rows:
        raise ApiError(_('The field "%(name)s" does not exist.') % {"name": name})
    return rows


def _export_records(post, user) -> tuple[HttpResponse, list[str]]:
    fmt = _format(post)
    record_type = post.get("type", "flat")
    if record_type not in ("flat", "eav"):
        raise ApiError(_('The value of the parameter "type" is not valid; use flat or eav.'))
    raw_or_label = post.get("rawOrLabel", "raw")
    if raw_or_label not in ("raw", "label"):
        raise ApiError(_('The value of the parameter "rawOrLabel" is not valid; use raw or label.'))
    unsupported = [n for n in UNSUPPORTED_FILTERS if post.get(n, "").strip()]
    if unsupported:
        raise ApiError(
            _("This server does not support the parameters %(names)s; filter the export instead.")
            % {"names": ", ".join(unsupported)}
        )
    fields, forms, events = (_param_list(post, n) for n in ("fields", "forms", "events"))
    known_fields = {r["export_field_name"] for r in project.export_field_names()} | set(
        records.KEYS
    )
    bad = [f for f in fields or () if f not in known_fields]
    bad += [f for f in forms or () if f not in project.instrument_map()]
    bad += [e for e in events or () if e not in project.event_names()]
    if bad:
        raise ApiError(
            _("The following values are not valid fields, forms or events: %(names)s")
            % {"names": ", ".join(bad)}
        )
    query = records.RecordQuery(
        site_codes=_site_codes(user),
        records=_param_list(post, "records"),
        fields=fields,
        forms=forms,
        events=events,
        raw_or_label=raw_or_label,
        show_arm=arm_visible(user),
    )
    frame = records.export(query)
    touched = records.record_ids(frame)
    if record_type == "eav":
        return render(records.to_eav(frame), fmt), touched
    if fmt == "csv":
        return HttpResponse(records.to_csv(frame), content_type="text/csv; charset=utf-8"), touched
    return render(records.to_rows(frame), fmt), touched


def _import_records(post, user) -> tuple[HttpResponse, list[str]]:
    if not can(user, "enter_data"):
        raise ApiError(_("You do not have API Import/Update privileges"), 403)
    fmt = (post.get("format") or "xml").lower()
    text = post.get("data", "")
    if fmt == "json":
        try:
            rows = json.loads(text)
        except ValueError as error:
            raise ApiError(_("The data are not valid JSON: %(error)s") % {"error": error}) from None
        if isinstance(rows, dict):
            rows = [rows]
        if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
            raise ApiError(_("The data must be a JSON list of records."))
    elif fmt == "csv":
        rows = list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))
    else:
        raise ApiError(_('Importing records accepts format "json" or "csv".'))
    if post.get("type", "flat") != "flat":
        raise ApiError(_('Importing records accepts type "flat" only.'))
    overwrite = post.get("overwriteBehavior", "normal")
    if overwrite not in ("normal", "overwrite"):
        raise ApiError(
            _(
                'The value of the parameter "overwriteBehavior" is not valid; '
                "use normal or overwrite."
            )
        )
    accept = post.get("acceptWarnings", "").lower() in ("1", "true", "yes")
    try:
        ids = records_import(
            rows=rows,
            user=user,
            overwrite=overwrite == "overwrite",
            accept_warnings=accept,
            reason=_("imported through the API") + f" ({user.username})",
        )
    except RecordImportError as error:
        raise ApiError(str(error)) from None
    content = post.get("returnContent", "count")
    return_format = (post.get("returnFormat") or "json").lower()
    if content == "ids":
        data: Any = ids
    elif content == "nothing":
        return HttpResponse("", content_type="text/plain"), ids
    else:
        data = {"count": len(ids)}
    if return_format == "json":
        return render(data, "json"), ids
    if return_format == "csv":
        if content == "ids":
            return HttpResponse("id\n" + "\n".join(ids), content_type="text/csv"), ids
        return HttpResponse(str(len(ids)), content_type="text/csv"), ids
    return render(
        data if isinstance(data, dict) else [{"id": i} for i in ids], "xml", root="ids"
    ), ids


def _export_log(post, user) -> tuple[HttpResponse, list[str]]:
    fmt = _format(post)
    rows = logs.audit_log(
        user=user,
        username=post.get("user", "").strip() or None,
        record=post.get("record", "").strip() or None,
        begin=_time(post.get("beginTime", "")),
        end=_time(post.get("endTime", "")),
    )
    return render(rows, fmt), list(dict.fromkeys(r["record"] for r in rows if r["record"]))


def _time(text: str):
    from datetime import datetime

    text = text.strip()
    if not text:
        return None
    try:
        value = datetime.strptime(text, "%Y-%m-%d %H:%M")  # noqa: DTZ007 - made aware below
    except ValueError:
        try:
            value = datetime.strptime(text, "%Y-%m-%d %H:%M:%S")  # noqa: DTZ007
        except ValueError:
            raise ApiError(
                _("Times are written YYYY-MM-DD HH:MM, not %(value)r.") % {"value": text}
            ) from None
    return timezone.make_aware(value)
