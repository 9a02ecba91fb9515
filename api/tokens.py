"""Creating, checking and revoking API tokens. REDCap tokens are 32 uppercase hex characters
(PyCap checks the length); only their SHA-256 is stored."""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from api.models import ApiToken

TOKEN_FORMAT = re.compile(r"^[0-9A-F]{32}$")


def token_digest(token: str) -> str:
    return hashlib.sha256(token.strip().upper().encode("ascii", "replace")).hexdigest()


@transaction.atomic
def token_create(
    *, user: Any, created_by: Any = None, name: str = "", expires_at: datetime | None = None
) -> tuple[ApiToken, str]:
    """A new token for ``user``: the stored row and the token itself (shown once)."""
    token = secrets.token_hex(16).upper()
    row = ApiToken.objects.create(
        user=user,
        name=name,
        token_hash=token_digest(token),
        prefix=token[:4],
        created_by=created_by,
        expires_at=expires_at,
    )
    return row, token


def token_revoke(*, token: ApiToken) -> ApiToken:
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
    return token


def token_find(token: str) -> ApiToken | None:
    """The stored row of a presented token, usable or not (None: no such token)."""
    if not TOKEN_FORMAT.match(token.strip().upper()):
        return None
    return ApiToken.objects.select_related("user").filter(token_hash=token_digest(token)).first()
