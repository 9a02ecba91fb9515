"""Safety reads and notices: serious adverse events on their 24-hour report clock, and HDRS-17
item 3 (suicide) scores of 2 or more.

Writes (saving, acknowledging, reviewing) are services in ``assessments.services``; this module
holds what several pages show and the e-mail sent when an event becomes serious.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from assessments.instruments import hdrs, seriousness
from assessments.models import CaseReportForm, Hdrs17
from assessments.models.records import AdverseEvent
from hfs_ecrf.access import role_of, scope_to_sites
from hfs_ecrf.roles import GROUP_NAMES, Role

logger = logging.getLogger(__name__)

# Who is told of serious events and acknowledges them; who reviews suicide-item alerts.
SAFETY_ROLES = (Role.INVESTIGATOR, Role.DATA_MANAGER)
SUICIDE_REVIEW_ROLES = (Role.INVESTIGATOR,)

SUICIDE_PROMPT = gettext_lazy(
    "Safety: HDRS item 3 (suicide) is scored %(score)s. Assess the suicide risk now, follow the "
    "site's safety procedure and inform the investigator; the investigator's home page shows "
    "this score until it is reviewed."
)


def may_acknowledge(user: Any) -> bool:
    return role_of(user) in SAFETY_ROLES


def may_review_suicide_item(user: Any) -> bool:
    return role_of(user) in SUICIDE_REVIEW_ROLES


def _hours_minutes(delta: timedelta) -> tuple[int, int]:
    minutes = int(abs(delta).total_seconds() // 60)
    return minutes // 60, minutes % 60


def serious_ae_alerts(user: Any) -> list[dict[str, Any]]:
    """Serious adverse events not yet acknowledged, oldest clock first, for the safety roles.

    Each row: the event (with its patient and site), when the report is due, hours and minutes
    left (or overdue). One query.
    """
    if not may_acknowledge(user):
        return []
    events = scope_to_sites(
        AdverseEvent.objects.filter(
            serious=True, acknowledged_at__isnull=True, serious_since__isnull=False
        ),
        user,
        site_path="patient__site",
    ).select_related("patient", "patient__site")
    now = timezone.now()
    alerts = []
    for event in events.order_by("serious_since", "pk"):
        left = seriousness.time_left(event.serious_since, now)
        hours, minutes = _hours_minutes(left)
        alerts.append(
            {
                "event": event,
                "due": event.report_due,
                "overdue": left < timedelta(0),
                "hours": hours,
                "minutes": minutes,
            }
        )
    return alerts


def suicide_item_alerts(user: Any) -> list[Hdrs17]:
    """HDRS-17 forms whose item 3 is 2 or more and not yet reviewed at that score. One query."""
    if not may_review_suicide_item(user):
        return []
    unreviewed = Q(suicide_review__isnull=True) | Q(q03__gt=F("suicide_review__score"))
    forms = Hdrs17.objects.filter(q03__gte=hdrs.SUICIDE_ALERT_FROM).filter(unreviewed)
    return list(
        scope_to_sites(forms, user, site_path="visit__patient__site")
        .select_related("visit", "visit__patient")
        .order_by("updated_at", "pk")
    )


def home_context(user: Any) -> dict[str, Any]:
    """What templates/assessments/_sae_alerts.html needs on a home page."""
    return {
        "sae_alerts": serious_ae_alerts(user),
        "suicide_alerts": suicide_item_alerts(user),
    }


def crf_safety_prompt(form: CaseReportForm) -> str | None:
    """The prompt a clinician sees on saving a form with a safety finding, if any."""
    score = getattr(form, f"q{hdrs.SUICIDE_ITEM:02d}", None) if isinstance(form, Hdrs17) else None
    if hdrs.suicide_alert(score):
        return SUICIDE_PROMPT % {"score": score}
    return None


def safety_recipients() -> list[str]:
    """E-mail addresses of active investigators and data managers (and superusers)."""
    groups = [GROUP_NAMES[role] for role in SAFETY_ROLES]
    users = (
        get_user_model()
        .objects.filter(is_active=True)
        .filter(Q(groups__name__in=groups) | Q(is_superuser=True))
        .exclude(email="")
    )
    return sorted(set(users.values_list("email", flat=True)))


def serious_event_message(event: AdverseEvent) -> tuple[str, str]:
    """Subject and body of the notice of a serious event (no identity data: study ID only)."""
    due = event.report_due
    local_zone = timezone.get_default_timezone()
    subject = _("[HFS-B12] Serious adverse event %(study_id)s: report within 24 hours") % {
        "study_id": event.patient.study_id
    }
    local_due = timezone.localtime(due, local_zone)
    rows = [
        (_("patient"), f"{event.patient.study_id} ({event.patient.site.code})"),
        (_("adverse event"), event.term),
        (_("onset date"), f"{event.onset_on:%Y-%m-%d}"),
        (_("seriousness criteria"), ", ".join(event.criteria_labels())),
        (_("outcome"), event.get_outcome_display()),
        (_("recorded as serious"), f"{event.serious_since:%Y-%m-%d %H:%M} UTC"),
        (_("report due"), f"{due:%Y-%m-%d %H:%M} UTC ({local_due:%Y-%m-%d %H:%M} {local_zone})"),
    ]
    path = reverse("assessments:ae_edit", args=[event.patient.study_id, event.pk])
    lines = [
        _("A serious adverse event was recorded. Report it to the sponsor within 24 hours."),
        "",
        *(f"{label}: {value}" for label, value in rows),
        "",
        _("Acknowledge it on your home page: %(path)s") % {"path": path},
    ]
    return subject, "\n".join(lines)


def notify_serious_event(event_id: int) -> int:
    """Send the notice of one serious event; run after the commit that made it serious."""
    event = AdverseEvent.objects.select_related("patient", "patient__site").get(pk=event_id)
    recipients = safety_recipients()
    if not recipients:
        logger.warning("serious adverse event %s: no safety recipient has an e-mail", event_id)
        return 0
    with translation.override(settings.LANGUAGE_CODE):
        subject, body = serious_event_message(event)
    return send_mail(subject, body, None, recipients)
