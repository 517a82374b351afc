"""/api/v1/audit: the audit log after a cursor, oldest first, for copying into a CRM."""

from datetime import datetime
from typing import Any

from django.http import HttpRequest
from ninja import Query, Router
from pydantic import BaseModel, ConfigDict, Field

from licentia.api.vendor import ERRORS, query_known, requires
from licentia.api.vendor_clients import MAX_PAGE, QueryText20, page_after
from licentia.core.models import AuditEvent

router = Router(tags=["audit"])


class AuditOut(BaseModel):
    id: int = Field(description="Номер события (курсор). / Event id, the cursor.")
    created_at: datetime = Field(description="Время. / Time.")
    actor_kind: str = Field(description="staff, api_key, application, client, system.")
    actor: str = Field(description="Кто. / Who.")
    action: str = Field(description="Действие, например client.update. / Action.")
    object_type: str = Field(description="Тип объекта. / Object type.")
    object_id: str = Field(description="Id объекта. / Object id.")
    object_repr: str = Field(description="Объект. / Object.")
    before: Any = Field(description="Данные до. / Data before.")
    after: Any = Field(description="Данные после. / Data after.")
    ip: str | None = Field(description="IP-адрес. / IP address.")


class AuditPage(BaseModel):
    items: list[AuditOut] = Field(description="События по возрастанию id. / Events by id.")
    next_cursor: str = Field(
        description="Курсор следующего вызова (id последнего события). / The cursor of the "
        "next call: the last event's id."
    )
    more: bool = Field(
        description="Есть ещё события сразу. / More events wait now; false: up to date."
    )


class AuditFilters(BaseModel):
    model_config = ConfigDict(extra="forbid")

    cursor: QueryText20 = Field(
        default="", description="id последнего полученного события. / Last event id fetched."
    )
    limit: int = Field(default=100, ge=1, le=MAX_PAGE, description="Размер страницы. / Size.")


@router.get("/audit", response={200: AuditPage, **ERRORS}, summary="Audit events after a cursor")
@requires("view", "core.auditevent")
def audit_list(request: HttpRequest, filters: Query[AuditFilters]) -> AuditPage:
    query_known(request, AuditFilters)
    found = list(
        AuditEvent.objects.filter(pk__gt=page_after(filters.cursor)).order_by("id")[
            : filters.limit + 1
        ]
    )
    items = found[: filters.limit]
    cursor = str(items[-1].pk) if items else filters.cursor or "0"
    return AuditPage(
        items=[
            AuditOut(
                id=event.pk,
                created_at=event.created_at,
                actor_kind=event.actor_kind,
                actor=event.actor_label,
                action=event.action,
                object_type=event.object_type,
                object_id=event.object_id,
                object_repr=event.object_repr,
                before=event.before,
                after=event.after,
                ip=event.ip,
            )
            for event in items
        ],
        next_cursor=cursor,
        more=len(found) > filters.limit,
    )
