"""Demo accounts and sites for the quickstart (synthetic data only, never in production)."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.models import Group, User
from django.db import transaction

from hfs_ecrf.groups import sync_study_groups
from hfs_ecrf.roles import GROUP_NAMES, Role
from patients.models import Site, SiteMembership

DEFAULT_DEMO_PASSWORD = "hfs-b12-demo-2026"  # noqa: S105 - synthetic demo accounts only

DEMO_SITES = [("SMR", "Samarkand State Medical University clinic"), ("TAS", "Tashkent clinic")]


@dataclass(frozen=True)
class DemoAccount:
    username: str
    role: Role
    site_codes: tuple[str, ...]


DEMO_ACCOUNTS = [
    DemoAccount("clinician_a", Role.CLINICIAN, ("SMR",)),
    DemoAccount("clinician_b", Role.CLINICIAN, ("TAS",)),
    DemoAccount("monitor", Role.MONITOR, ("SMR", "TAS")),
    DemoAccount("investigator", Role.INVESTIGATOR, ()),
    DemoAccount("datamanager", Role.DATA_MANAGER, ()),
]


@transaction.atomic
def seed_accounts(password: str = DEFAULT_DEMO_PASSWORD) -> dict[str, Site]:
    """Create (or reset) the demo sites and one account per role. Idempotent."""
    sync_study_groups()
    sites = {}
    for code, name in DEMO_SITES:
        site = Site.objects.filter(code=code).first()
        if site is None:
            site = Site(code=code, name=name)
            site.save_audited(user=None, reason="demo data")
        sites[code] = site
    for account in DEMO_ACCOUNTS:
        user, _ = User.objects.get_or_create(username=account.username)
        user.set_password(password)
        user.is_active = True
        user.is_staff = account.role == Role.DATA_MANAGER
        user.save()
        user.groups.set([Group.objects.get(name=GROUP_NAMES[account.role])])
        for code in account.site_codes:
            if not SiteMembership.objects.filter(user=user, site=sites[code]).exists():
                SiteMembership(user=user, site=sites[code]).save_audited(
                    user=None, reason="demo data"
                )
    return sites
