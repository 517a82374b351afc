"""Counter rows that many requests add to at once."""

from typing import Any

from django.db import IntegrityError, models, transaction


def counter_bump(
    model: type[models.Model], *, match: dict[str, Any], create: dict[str, Any], **update: Any
) -> None:
    """Adds to a counter row, creating it when it is the first: safe when two requests race
    to create the same row."""
    if model._default_manager.filter(**match).update(**update):
        return
    try:
        with transaction.atomic():
            model._default_manager.create(**match, **create)
    except IntegrityError:
        model._default_manager.filter(**match).update(**update)
