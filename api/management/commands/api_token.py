from __future__ import annotations

from datetime import timedelta

from django.contrib.auth.models import User
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from api.tokens import token_create


class Command(BaseCommand):
    help = (
        "Create an API token for a user and print it (shown once; only its hash is stored). "
        "The token has the user's role and sites."
    )

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--name", default="", help="what the token is for")
        parser.add_argument("--days", type=int, help="expires after this many days")

    def handle(self, *args, **options):
        user = User.objects.filter(username=options["username"], is_active=True).first()
        if user is None:
            raise CommandError(f"{options['username']}: no active user of that name.")
        expires = timezone.now() + timedelta(days=options["days"]) if options["days"] else None
        _row, token = token_create(user=user, name=options["name"], expires_at=expires)
        self.stdout.write(token)
