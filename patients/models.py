from __future__ import annotations

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from hfs_ecrf.audit import AuditedModel


class Site(AuditedModel):
    code = models.CharField(
        _("site code"),
        max_length=8,
        unique=True,
        validators=[
            RegexValidator(r"^[A-Z]{2,8}$", _("Use 2 to 8 capital Latin letters, e.g. SMR."))
        ],
        help_text=_("2 to 8 capital Latin letters; the prefix of every study ID at the site."),
    )
    name = models.CharField(_("name"), max_length=200)

    class Meta:
        ordering = ["code"]
        verbose_name = _("site")
        verbose_name_plural = _("sites")

    def __str__(self) -> str:
        return f"{self.code} — {self.name}"


class SiteMembership(AuditedModel):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        related_name="site_memberships",
    )
    site = models.ForeignKey(
        Site, verbose_name=_("site"), on_delete=models.PROTECT, related_name="memberships"
    )

    class Meta:
        verbose_name = _("site membership")
        verbose_name_plural = _("site memberships")
        constraints = [
            models.UniqueConstraint(fields=["user", "site"], name="one_membership_per_user_site")
        ]

    def __str__(self) -> str:
        return f"{self.user} @ {self.site.code}"
