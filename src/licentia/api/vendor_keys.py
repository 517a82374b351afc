"""/api/v1/keys and /api/v1/sessions: license keys with their lines and seats, the lines
changed as on the key card, and the seats held by applications."""

from datetime import datetime
from uuid import UUID

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.utils import timezone
from ninja import Router, Status
from pydantic import BaseModel, Field

from licentia.api.vendor import ERRORS, Moment, api_actor_of, not_found, requires
from licentia.catalog.models import Product
from licentia.clients.models import Client
from licentia.coupons.services import key_line_change
from licentia.keys.models import KeyLine, LicenseKey
from licentia.keys.selectors import key_license, line_status
from licentia.keys.services import key_line_add, key_line_end, key_set_blocked, license_key_generate
from licentia.licensing.models import Session
from licentia.licensing.selectors import key_find, key_usage, seat_held
from licentia.licensing.services.sessions import session_reset

router = Router(tags=["keys and sessions"])


class LineOut(BaseModel):
    id: int = Field(description="Номер строки. / The line's id.")
    product_id: int = Field(description="Продукт. / Product id.")
    product: str = Field(description="Название продукта. / Product name.")
    multiplier: int = Field(description="Множитель. / Multiplier.")
    is_trial: bool = Field(description="Триал. / Trial.")
    starts_at: datetime = Field(description="Начало. / Start.")
    expires_at: datetime | None = Field(description="Окончание; null: бессрочно. / Expiry.")
    state: str = Field(description="active или как завершена. / active, or how it ended.")
    status: str = Field(
        description="active, not_started, expired, ended (сейчас). / Status at this moment."
    )


class SeatsOut(BaseModel):
    feature_id: int = Field(description="Фича. / Feature id.")
    feature_name: str = Field(description="Название фичи. / Feature name.")
    type: str = Field(description="Тип лицензии. / License type.")
    total: int = Field(description="Всего. / Total.")
    occupied: int = Field(description="Занято (токены: израсходовано). / Taken or consumed.")
    free: int = Field(description="Свободно. / Free.")


class KeyOut(BaseModel):
    number: str = Field(description="Лицензионный ключ. / License key.")
    client_id: int = Field(description="Клиент. / Client id.")
    blocked: bool = Field(description="Заблокирован. / Blocked.")
    created_at: datetime = Field(description="Создан. / Created.")
    lines: list[LineOut] = Field(description="Продукты в ключе. / Products in the key.")
    seats: list[SeatsOut] = Field(description="Сводка мест. / Seat summary.")


def line_out(line: KeyLine, moment: datetime) -> LineOut:
    return LineOut(
        id=line.pk,
        product_id=line.product_id,
        product=line.product.name,
        multiplier=line.multiplier,
        is_trial=line.is_trial,
        starts_at=line.starts_at,
        expires_at=line.expires_at,
        state=line.state,
        status=line_status(line, at=moment),
    )


def key_out(key: LicenseKey) -> KeyOut:
    moment = timezone.now()
    license_ = key_license(key, moment)
    return KeyOut(
        number=key.number,
        client_id=key.client_id,
        blocked=key.blocked,
        created_at=key.created_at,
        lines=[line_out(line, moment) for line in license_.lines],
        seats=[
            SeatsOut(
                feature_id=row.feature_id,
                feature_name=row.feature_name,
                type=row.license_type,
                total=row.total,
                occupied=row.occupied,
                free=row.free,
            )
            for row in key_usage(license_, moment)
        ],
    )


def _key(number: str) -> LicenseKey:
    """The key by its number in any formatting: 422 (2026) malformed, 404 (2009) unknown."""
    return key_find(number)


@router.get(
    "/keys/{number}", response={200: KeyOut, **ERRORS}, summary="A key, its lines and seats"
)
@requires("view", "keys.licensekey")
def key_get(request: HttpRequest, number: str) -> KeyOut:
    return key_out(_key(number))


@router.post(
    "/clients/{client_id}/keys",
    response={201: KeyOut, **ERRORS},
    summary="Generate an empty key for the client",
)
@requires("add", "keys.licensekey")
def key_generate(request: HttpRequest, client_id: int) -> Status:
    client = get_object_or_404(Client, pk=client_id)
    return Status(201, key_out(license_key_generate(client=client, actor=api_actor_of(request))))


class BlockIn(BaseModel):
    blocked: bool = Field(description="true: заблокировать, false: снять. / Block or unblock.")


@router.post(
    "/keys/{number}/block", response={200: KeyOut, **ERRORS}, summary="Block or unblock a key"
)
@requires("change", "keys.licensekey")
def key_block(request: HttpRequest, number: str, payload: BlockIn) -> KeyOut:
    key = key_set_blocked(key=_key(number), blocked=payload.blocked, actor=api_actor_of(request))
    return key_out(key)


class LineIn(BaseModel):
    product_id: int = Field(ge=1, le=2_147_483_647, description="Продукт. / Product id.")
    multiplier: int = Field(default=1, ge=1, le=1_000_000, description="Множитель. / Multiplier.")
    is_trial: bool = Field(default=False, description="Триал. / Trial.")
    starts_at: Moment | None = Field(default=None, description="Начало; пусто: сейчас. / Start.")
    expires_at: Moment | None = Field(
        default=None, description="Окончание; пусто: бессрочно. / Expiry; empty: perpetual."
    )


@router.post(
    "/keys/{number}/lines", response={201: LineOut, **ERRORS}, summary="Add a line to a key"
)
@requires("add", "keys.keyline")
def line_add(request: HttpRequest, number: str, payload: LineIn) -> Status:
    key = _key(number)
    product = Product.objects.filter(pk=payload.product_id).first()
    if product is None:
        raise not_found()
    line = key_line_add(
        key=key,
        product=product,
        actor=api_actor_of(request),
        multiplier=payload.multiplier,
        is_trial=payload.is_trial,
        starts_at=payload.starts_at,
        expires_at=payload.expires_at,
    )
    return Status(201, line_out(line, timezone.now()))


class LineChangeIn(BaseModel):
    multiplier: int = Field(ge=1, le=1_000_000, description="Множитель. / Multiplier.")
    expires_at: Moment | None = Field(description="Окончание; null: бессрочно. / Expiry.")
    purchased: bool = Field(
        default=False, description="Триал стал покупкой. / The trial line becomes purchased."
    )


def _line(number: str, line_id: int) -> KeyLine:
    line = KeyLine.objects.select_related("product").filter(key=_key(number), pk=line_id).first()
    if line is None:
        raise not_found()
    return line


@router.patch(
    "/keys/{number}/lines/{line_id}",
    response={200: KeyOut, **ERRORS},
    summary="Change a live line's multiplier or expiry",
)
@requires("change", "keys.keyline")
def line_change(request: HttpRequest, number: str, line_id: int, payload: LineChangeIn) -> KeyOut:
    line = _line(number, line_id)
    key_line_change(
        line=line,
        actor=api_actor_of(request),
        multiplier=payload.multiplier,
        expires_at=payload.expires_at,
        purchased=payload.purchased,
    )
    return key_out(line.key)


@router.post(
    "/keys/{number}/lines/{line_id}/end",
    response={200: LineOut, **ERRORS},
    summary="End a line",
)
@requires("change", "keys.keyline")
def line_end(request: HttpRequest, number: str, line_id: int) -> LineOut:
    ended = key_line_end(line=_line(number, line_id), actor=api_actor_of(request))
    return line_out(KeyLine.objects.select_related("product").get(pk=ended.pk), timezone.now())


# Sessions.


class SessionOut(BaseModel):
    id: UUID = Field(description="Номер сессии. / Session id.")
    key: str = Field(description="Ключ. / License key.")
    feature_id: int = Field(description="Фича. / Feature id.")
    license_type: str = Field(description="Тип лицензии. / License type.")
    user: str = Field(description="Пользователь. / User.")
    host: str = Field(description="Компьютер. / Host.")
    database: str = Field(description="База. / Database.")
    app_version: str = Field(description="Версия приложения. / Application version.")
    started_at: datetime = Field(description="Захвачена. / Captured.")
    last_heartbeat_at: datetime = Field(description="Последний пульс. / Last heartbeat.")
    ended_at: datetime | None = Field(description="Завершена. / Ended.")
    end_reason: str = Field(description="Причина завершения. / End reason.")


def session_out(session: Session) -> SessionOut:
    return SessionOut(
        id=session.public_id,
        key=session.key.number,
        feature_id=session.feature_id,
        license_type=session.license_type,
        user=session.user,
        host=session.host,
        database=session.database,
        app_version=session.app_version,
        started_at=session.started_at,
        last_heartbeat_at=session.last_heartbeat_at,
        ended_at=session.ended_at,
        end_reason=session.end_reason,
    )


LIVE_LIMIT = 1000


def _live(**lookups: object) -> list[SessionOut]:
    sessions = (
        Session.objects.filter(seat_held(timezone.now()), **lookups)
        .select_related("key")
        .order_by("-started_at", "-id")[:LIVE_LIMIT]
    )
    return [session_out(session) for session in sessions]


@router.get(
    "/keys/{number}/sessions",
    response={200: list[SessionOut], **ERRORS},
    summary="Seats a key's applications hold now",
)
@requires("view", "licensing.session")
def key_sessions(request: HttpRequest, number: str) -> list[SessionOut]:
    return _live(key=_key(number))


@router.get(
    "/clients/{client_id}/sessions",
    response={200: list[SessionOut], **ERRORS},
    summary="Seats a client's applications hold now",
)
@requires("view", "licensing.session")
def client_sessions(request: HttpRequest, client_id: int) -> list[SessionOut]:
    client = get_object_or_404(Client, pk=client_id)
    return _live(key__client=client)


@router.post(
    "/sessions/{session_id}/reset",
    response={200: SessionOut, **ERRORS},
    summary="Reset a session: its seat is free at once",
)
@requires("change", "licensing.session")
def session_reset_call(request: HttpRequest, session_id: UUID) -> SessionOut:
    session = get_object_or_404(Session, public_id=session_id)
    reset = session_reset(session=session, actor=api_actor_of(request))
    return session_out(Session.objects.select_related("key").get(pk=reset.pk))
