"""/api/v1/clients: the client directory as the cabinet's Clients page has it."""

from datetime import datetime
from typing import Annotated, Any

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from ninja import Query, Router, Status
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from licentia.api.vendor import (
    ERRORS,
    INVALID,
    ApiError,
    Moment,
    api_actor_of,
    query_known,
    requires,
)
from licentia.clients.merge import clients_merge
from licentia.clients.models import Client, ClientSource, Distributor
from licentia.clients.search import client_search
from licentia.clients.services import client_create, client_delete, client_update
from licentia.core.models import User

router = Router(tags=["clients"])

MAX_PAGE = 500
_NO_NUL = r"^[^\x00]*$"


Text8 = Annotated[str, StringConstraints(max_length=8, pattern=_NO_NUL)]
Text20 = Annotated[str, StringConstraints(max_length=20, pattern=_NO_NUL)]
Text40 = Annotated[str, StringConstraints(max_length=40, pattern=_NO_NUL)]
Text64 = Annotated[str, StringConstraints(max_length=64, pattern=_NO_NUL)]
Text200 = Annotated[str, StringConstraints(max_length=200, pattern=_NO_NUL)]
Text254 = Annotated[str, StringConstraints(max_length=254, pattern=_NO_NUL)]
Text300 = Annotated[str, StringConstraints(max_length=300, pattern=_NO_NUL)]
Text5000 = Annotated[str, StringConstraints(max_length=5000, pattern=_NO_NUL)]
# In a query string: NUL characters are dropped from it before it comes here.
QueryText20 = Annotated[str, StringConstraints(max_length=20)]
QueryText64 = Annotated[str, StringConstraints(max_length=64)]
QueryText200 = Annotated[str, StringConstraints(max_length=200)]


class ClientOut(BaseModel):
    id: int = Field(description="Номер клиента. / The client's id.")
    company: str = Field(description="Компания. / Company.")
    contact: str = Field(description="Контактное лицо. / Contact person.")
    phone: str = Field(description="Телефон. / Phone.")
    email: str = Field(description="E-mail.")
    alert_email: str = Field(
        description="E-mail для уведомлений о проблемах и релизах. / E-mail for alerts."
    )
    crm_id1: str = Field(description="CRM ID1 (обычно ИНН). / CRM ID1 (usually the INN).")
    crm_id2: str = Field(
        description="CRM ID2 (id контрагента в 1С). / CRM ID2 (the 1C counterparty's id)."
    )
    manager_id: int | None = Field(description="Ответственный менеджер. / Responsible manager.")
    distributor_id: int | None = Field(description="Дистрибьютор. / Distributor.")
    distributor_guid: str | None = Field(description="GUID дистрибьютора. / Distributor GUID.")
    comment: str = Field(description="Комментарий. / Comment.")
    language: str = Field(description="Язык писем: ru, en. / Language of mail.")
    source: str = Field(description="Откуда клиент. / Where the client came from.")
    extra: dict[str, Any] = Field(description="Дополнительные поля. / Additional fields.")
    created_at: datetime = Field(description="Создан. / Created.")
    updated_at: datetime = Field(description="Изменён. / Updated.")


class ClientPage(BaseModel):
    items: list[ClientOut] = Field(description="Клиенты по возрастанию id. / Clients by id.")
    next_cursor: str | None = Field(
        description="Передайте как cursor за следующей страницей; null: это последняя. / Pass "
        "as `cursor` for the next page; null: this is the last."
    )


def client_out(client: Client) -> ClientOut:
    return ClientOut(
        id=client.pk,
        company=client.company,
        contact=client.contact,
        phone=client.phone,
        email=client.email,
        alert_email=client.alert_email,
        crm_id1=client.crm_id1,
        crm_id2=client.crm_id2,
        manager_id=client.manager_id,
        distributor_id=client.distributor_id,
        distributor_guid=str(client.distributor.guid) if client.distributor else None,
        comment=client.comment,
        language=client.language,
        source=client.source,
        extra=client.extra,
        created_at=client.created_at,
        updated_at=client.updated_at,
    )


class ClientFilters(BaseModel):
    model_config = ConfigDict(extra="forbid")

    q: QueryText200 = Field(
        default="",
        description="Быстрый поиск, как в кабинете: компания, ключ, e-mail, ИНН, телефон. / "
        "Quick search as in the cabinet.",
    )
    crm_id1: QueryText64 = Field(default="", description="Точно этот CRM ID1. / Exactly this.")
    crm_id2: QueryText64 = Field(default="", description="Точно этот CRM ID2. / Exactly this.")
    distributor: int | None = Field(
        default=None, ge=1, le=2**62, description="Id дистрибьютора. / Distributor id."
    )
    manager: int | None = Field(
        default=None, ge=1, le=2**62, description="Id менеджера. / Manager id."
    )
    updated_since: Moment | None = Field(
        default=None, description="Изменённые с этого момента. / Updated since."
    )
    cursor: QueryText20 = Field(default="", description="Курсор страницы. / Page cursor.")
    limit: int = Field(default=100, ge=1, le=MAX_PAGE, description="Размер страницы. / Page size.")


def page_after(cursor: str) -> int:
    if not cursor:
        return 0
    if not cursor.isdigit() or len(cursor) > 18:
        raise ApiError(
            422, INVALID, _("The request is invalid."), {"cursor": [_("Unknown cursor.")]}
        )
    return int(cursor)


@router.get(
    "/clients",
    response={200: ClientPage, **ERRORS},
    summary="Clients: search and filters, paged by cursor",
)
@requires("view", "clients.client")
def clients_list(request: HttpRequest, filters: Query[ClientFilters]) -> ClientPage:
    query_known(request, ClientFilters)
    clients = Client.objects.select_related("distributor")
    if filters.q.strip():
        clients = client_search(query=filters.q, queryset=clients)
    if filters.crm_id1:
        clients = clients.filter(crm_id1=filters.crm_id1)
    if filters.crm_id2:
        clients = clients.filter(crm_id2=filters.crm_id2)
    if filters.distributor is not None:
        clients = clients.filter(distributor_id=filters.distributor)
    if filters.manager is not None:
        clients = clients.filter(manager_id=filters.manager)
    if filters.updated_since is not None:
        clients = clients.filter(updated_at__gte=filters.updated_since)
    after = page_after(filters.cursor)
    found = list(clients.filter(pk__gt=after).order_by("id")[: filters.limit + 1])
    more = len(found) > filters.limit
    items = found[: filters.limit]
    return ClientPage(
        items=[client_out(client) for client in items],
        next_cursor=str(items[-1].pk) if more else None,
    )


@router.get("/clients/{client_id}", response={200: ClientOut, **ERRORS}, summary="A client")
@requires("view", "clients.client")
def client_get(request: HttpRequest, client_id: int) -> ClientOut:
    return client_out(get_object_or_404(Client.objects.select_related("distributor"), pk=client_id))


class ClientIn(BaseModel):
    company: Text300 | None = Field(default=None, description="Компания. / Company.")
    contact: Text200 | None = Field(default=None, description="Контакт. / Contact.")
    phone: Text64 | None = Field(default=None, description="Телефон. / Phone.")
    email: Text254 | None = Field(default=None, description="E-mail.")
    alert_email: Text254 | None = Field(
        default=None, description="E-mail для уведомлений. / E-mail for alerts."
    )
    crm_id1: Text64 | None = Field(default=None, description="CRM ID1 (ИНН). / CRM ID1.")
    crm_id2: Text64 | None = Field(default=None, description="CRM ID2.")
    manager_id: int | None = Field(
        default=None, ge=0, le=2**62, description="Id менеджера; 0: никто. / Manager id; 0: none."
    )
    distributor_id: int | None = Field(
        default=None,
        ge=0,
        le=2**62,
        description="Id дистрибьютора; 0: нет. / Distributor; 0: none.",
    )
    comment: Text5000 | None = Field(default=None, description="Комментарий. / Comment.")
    language: Text8 | None = Field(default=None, description="ru или en. / ru or en.")
    extra: dict[Text40, Any] | None = Field(
        default=None, description="Дополнительные поля по коду. / Additional fields by code."
    )
    accept_invalid_inn: bool = Field(
        default=False,
        description="Сохранить CRM ID1 с неверной контрольной цифрой ИНН. / Keep a CRM ID1 "
        "whose INN check digit is wrong.",
    )


def _fields(payload: ClientIn) -> dict[str, Any]:
    data = payload.model_dump(exclude_unset=True, exclude={"accept_invalid_inn"})
    fields: dict[str, Any] = {}
    for name, value in data.items():
        if name == "manager_id":
            fields["manager"] = _related(User.objects.filter(is_staff=True), value, "manager_id")
        elif name == "distributor_id":
            fields["distributor"] = _related(Distributor.objects.all(), value, "distributor_id")
        elif value is not None:
            fields[name] = value
    return fields


def _related(queryset: Any, pk: int | None, field: str) -> Any:
    if not pk:
        return None
    found = queryset.filter(pk=pk).first()
    if found is None:
        raise ApiError(422, INVALID, _("The request is invalid."), {field: [_("Unknown id.")]})
    return found


@router.post("/clients", response={201: ClientOut, **ERRORS}, summary="Create a client")
@requires("add", "clients.client")
def client_post(request: HttpRequest, payload: ClientIn) -> Status:
    client = client_create(
        actor=api_actor_of(request),
        source=ClientSource.API,
        accept_invalid_inn=payload.accept_invalid_inn,
        **_fields(payload),
    )
    return Status(201, client_out(client))


@router.patch(
    "/clients/{client_id}", response={200: ClientOut, **ERRORS}, summary="Change a client"
)
@requires("change", "clients.client")
def client_patch(request: HttpRequest, client_id: int, payload: ClientIn) -> ClientOut:
    client = get_object_or_404(Client, pk=client_id)
    changed = client_update(
        client=client,
        actor=api_actor_of(request),
        accept_invalid_inn=payload.accept_invalid_inn,
        **_fields(payload),
    )
    return client_out(changed)


@router.delete(
    "/clients/{client_id}",
    response={204: None, **ERRORS},
    summary="Delete a client (refused while it holds keys with products)",
)
@requires("delete", "clients.client")
def client_remove(request: HttpRequest, client_id: int) -> Status:
    client_delete(client=get_object_or_404(Client, pk=client_id), actor=api_actor_of(request))
    return Status(204, None)


class MergeIn(BaseModel):
    others: list[Annotated[int, Field(ge=1, le=2**62)]] = Field(
        min_length=1,
        max_length=50,
        description="Дубли, которые вливаются в клиента. / The duplicates merged into it.",
    )
    fill: list[Text40] = Field(
        default_factory=list,
        max_length=50,
        description="Пустые поля клиента, заполняемые из дублей. / Empty fields filled from "
        "the duplicates.",
    )


@router.post(
    "/clients/{client_id}/merge",
    response={200: ClientOut, **ERRORS},
    summary="Merge duplicates into the client",
)
@requires("delete", "clients.client")
def client_merge(request: HttpRequest, client_id: int, payload: MergeIn) -> ClientOut:
    main = get_object_or_404(Client, pk=client_id)
    others = list(Client.objects.filter(pk__in=payload.others).exclude(pk=main.pk))
    if len(others) != len(set(payload.others) - {main.pk}) or not others:
        raise ApiError(
            422, INVALID, _("The request is invalid."), {"others": [_("Unknown or repeated ids.")]}
        )
    merged = clients_merge(main=main, others=others, actor=api_actor_of(request), fill=payload.fill)
    return client_out(Client.objects.select_related("distributor").get(pk=merged.pk))
