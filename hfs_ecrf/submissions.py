"""Double submissions of a new record create one row (hfs_ecrf.models.Submission).

The form carries a hidden one-time token (``hfs_ecrf.forms.SubmissionTokenMixin``). A service
that creates a record calls :func:`first_record` before anything else (a resend returns the
record the first submission made) and :func:`create_once` to insert the record and its token in
one savepoint: when two submissions of the same token race, the second waits for the first,
fails on the token's primary key and gets the first record back.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db import IntegrityError, models, transaction

from hfs_ecrf.models import Submission


def first_record(token: Any, model: type[models.Model]) -> models.Model | None:
    if not token:
        return None
    submission = Submission.objects.filter(token=token, model=model._meta.label).first()
    if submission is None:
        return None
    return model.objects.filter(pk=submission.object_id).first()


def create_once(obj: models.Model, *, token: Any, user: Any, save: Callable[[], None]) -> Any:
    """Run ``save`` (which inserts ``obj``) and record the token, all or nothing. Returns
    ``obj``, or the record of an earlier submission with the same token."""
    if not token:
        save()
        return obj
    try:
        with transaction.atomic():
            save()
            with transaction.atomic():
                Submission.objects.create(
                    token=token,
                    model=obj._meta.label,
                    object_id=str(obj.pk),
                    user=user if getattr(user, "pk", None) else None,
                )
    except IntegrityError:
        earlier = first_record(token, type(obj))
        if earlier is None:
            raise
        return earlier
    return obj
