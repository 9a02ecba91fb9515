from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from demo.seed import DEFAULT_DEMO_PASSWORD, DEMO_ACCOUNTS, seed_accounts, seed_cohort
from monitoring.demo import seed_monitoring


class Command(BaseCommand):
    help = "Create demo sites, one account per role and a synthetic cohort (DEBUG only)."

    def add_arguments(self, parser):
        parser.add_argument("--patients", type=int, default=62, help="cohort size (default 62)")
        parser.add_argument("--seed", type=int, default=2026, help="random seed (default 2026)")
        parser.add_argument(
            "--password", default=DEFAULT_DEMO_PASSWORD, help="password for every demo account"
        )

    def handle(self, *args, **options):
        if not settings.DEBUG:
            raise CommandError("seed_demo writes synthetic data; it refuses to run with DEBUG off.")
        if options["patients"] < 0:
            raise CommandError("--patients must be 0 or more.")
        sites = seed_accounts(options["password"])
        created = seed_cohort(patients=options["patients"], seed=options["seed"], sites=sites)
        if created:
            self.stdout.write(f"Synthetic cohort: {created} patients enrolled.")
        else:
            self.stdout.write("Synthetic cohort: already present (or --patients 0), unchanged.")
        verified = seed_monitoring()
        if verified:
            self.stdout.write(f"Monitoring: queries raised, {verified} forms verified.")
        password = options["password"]
        self.stdout.write(self.style.SUCCESS(f"Demo data ready. Logins (password: {password}):"))
        for account in DEMO_ACCOUNTS:
            sites = ", ".join(account.site_codes) or "all sites"
            self.stdout.write(f"  {account.username:<14} {account.role.value:<13} {sites}")
