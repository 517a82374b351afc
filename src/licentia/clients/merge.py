"""Merge of duplicates (объединение дублей): the main client takes over everything of the others.

Everything that points at a client moves, found through the model's relations rather than a list
kept by hand, so that whatever later hangs on a client (keys, coupon activations, queued mail)
moves with it, and with that what hangs on those (a key's sessions and problems).
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils.translation import gettext as _

from licentia.clients.models import Client, ClientFieldDefinition, ClientSearchToken
from licentia.clients.services import CLIENT_FIELDS, client_reindex
from licentia.clients.signals import clients_merged
from licentia.core.audit import Actor, audit_record, snapshot

# The company names the card and the language is a choice, never "empty"; the additional
# fields are filled one by one, as "extra.<code>".
FILLABLE_FIELDS = tuple(
    name for name in CLIENT_FIELDS if name not in {"company", "language", "extra"}
)
EXTRA_FILL_PREFIX = "extra."


class MergeRefusedError(ValidationError):
    """The merge cannot be done as asked; `code` says why."""


@dataclass
class FillCandidate:
    name: str
    label: str
    value: Any
    source: Client


@dataclass
class MergePreview:
    main: Client
    others: list[Client]
    moves: list[tuple[str, int]] = field(default_factory=list)
    fill_candidates: list[FillCandidate] = field(default_factory=list)


def _client_relations() -> list[models.ForeignKey]:
    # Search tokens are not moved but made anew for the main client after the merge.
    return [
        relation for relation in _relations_of(Client) if relation.model is not ClientSearchToken
    ]


def _relations_of(model: type[models.Model]) -> list[models.ForeignKey]:
    return [
        relation.field
        for relation in model._meta.related_objects
        if relation.one_to_many and isinstance(relation.field, models.ForeignKey)
    ]


def _field_value(client: Client, name: str) -> Any:
    if name.startswith(EXTRA_FILL_PREFIX):
        return client.extra.get(name.removeprefix(EXTRA_FILL_PREFIX))
    return getattr(client, name)


def _is_empty(value: Any) -> bool:
    return value in (None, "")


def _fill_candidates(main: Client, others: Sequence[Client]) -> list[FillCandidate]:
    labels: dict[str, str] = {}
    for name in FILLABLE_FIELDS:
        model_field = Client._meta.get_field(name)
        assert isinstance(model_field, models.Field)
        labels[name] = str(model_field.verbose_name)
    for definition in ClientFieldDefinition.objects.filter(archived=False):
        labels[EXTRA_FILL_PREFIX + definition.code] = definition.label_ru
    candidates = []
    for name, label in labels.items():
        if not _is_empty(_field_value(main, name)):
            continue
        for other in others:
            value = _field_value(other, name)
            if not _is_empty(value):
                candidates.append(FillCandidate(name=name, label=label, value=value, source=other))
                break
    return candidates


def _check_choice(main: Client, others: Sequence[Client]) -> None:
    if not others:
        raise MergeRefusedError(_("Choose at least two clients to merge."), code="merge_too_few")
    other_ids = [other.pk for other in others]
    if main.pk in other_ids or len(set(other_ids)) != len(other_ids):
        raise MergeRefusedError(_("A client cannot be merged with itself."), code="merge_self")


def clients_merge_preview(*, main: Client, others: Sequence[Client]) -> MergePreview:
    _check_choice(main, others)
    preview = MergePreview(main=main, others=list(others))
    for relation in _client_relations():
        count = relation.model._default_manager.filter(**{f"{relation.name}__in": others}).count()
        if count:
            preview.moves.append((str(relation.model._meta.verbose_name_plural), count))
    for relation in _client_relations():
        for hanging in _relations_of(relation.model):
            # A key's lines, sessions, problems, token ledger: they move with the key.
            lookup = f"{hanging.name}__{relation.name}__in"
            count = hanging.model._default_manager.filter(**{lookup: others}).count()
            if count:
                preview.moves.append((str(hanging.model._meta.verbose_name_plural), count))
    preview.fill_candidates = _fill_candidates(main, others)
    return preview


def clients_merge(
    *,
    main: Client,
    others: Sequence[Client],
    actor: Actor,
    fill: Iterable[str] = (),
    seen_versions: dict[int, datetime] | None = None,
) -> Client:
    """Moves everything of `others` to `main`, fills the chosen empty fields of `main` from
    them, removes them. `seen_versions` (client id → updated_at, as the preview showed them)
    makes the merge refuse clients that someone changed since."""
    _check_choice(main, others)
    ids = sorted([main.pk, *(other.pk for other in others)])
    with transaction.atomic():
        # Locked in id order, so that two merges touching the same clients cannot deadlock.
        locked = {
            client.pk: client
            for client in Client.objects.select_for_update().filter(pk__in=ids).order_by("pk")
        }
        if len(locked) != len(ids):
            raise MergeRefusedError(
                _("One of the clients was deleted meanwhile; open the merge again."),
                code="merge_changed",
            )
        for client_id, seen in (seen_versions or {}).items():
            if client_id in locked and locked[client_id].updated_at != seen:
                raise MergeRefusedError(
                    _("%(company)s was changed by someone else since the preview; check it again.")
                    % {"company": locked[client_id].company},
                    code="merge_changed",
                )
        current_main = locked[main.pk]
        current_others = [locked[other.pk] for other in others]
        before = {
            "main": snapshot(current_main),
            "removed": [snapshot(other) for other in current_others],
        }
        chosen = set(fill)
        for candidate in _fill_candidates(current_main, current_others):
            if candidate.name not in chosen:
                continue
            if candidate.name.startswith(EXTRA_FILL_PREFIX):
                current_main.extra[candidate.name.removeprefix(EXTRA_FILL_PREFIX)] = candidate.value
            else:
                setattr(current_main, candidate.name, candidate.value)
                if candidate.name == "phone":
                    current_main.phone_e164 = candidate.source.phone_e164
        moved: dict[str, list[str]] = {}
        for relation in _client_relations():
            related = relation.model._default_manager.filter(
                **{f"{relation.name}__in": current_others}
            )
            objects = [str(obj) for obj in related]
            if objects:
                moved[relation.model._meta.label_lower] = objects
                related.update(**{relation.name: current_main})
        current_main.save()
        for other in current_others:
            other.delete()
        client_reindex(client=current_main)
        audit_record(
            actor=actor,
            action="client.merge",
            instance=current_main,
            before=before,
            after={"main": snapshot(current_main), "moved": moved},
        )
        clients_merged.send(
            sender=Client,
            client=current_main,
            merged_ids=[other_id for other_id in ids if other_id != main.pk],
            actor=actor,
        )
    return current_main
