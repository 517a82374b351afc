"""/api/v1/coupons: search, activate, deactivate, block."""

from datetime import datetime
from typing import Literal

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Query, Router
from pydantic import BaseModel, ConfigDict, Field

from licentia.api.vendor import ERRORS, api_actor_of, not_found, query_known, requires
from licentia.api.vendor_clients import MAX_PAGE, QueryText20, QueryText64, Text64, page_after
from licentia.coupons.models import Activation, Coupon, Door
from licentia.coupons.selectors import coupon_code_parse, coupon_state, coupons_in_state
from licentia.coupons.services import activation_deactivate, coupon_activate, coupons_set_blocked

router = Router(tags=["coupons"])


class CouponOut(BaseModel):
    id: int = Field(description="Номер купона (для курсора). / The coupon's id.")
    code: str = Field(description="Код купона. / Coupon code.")
    kind: str = Field(description="new_product, trial_extend, upgrade.")
    state: str = Field(description="free, activated, reusable, blocked.")
    batch_id: int = Field(description="Партия. / Batch id.")
    invoice_number: str = Field(description="Номер счёта в CRM. / CRM invoice number.")
    distributor_id: int | None = Field(description="Дистрибьютор. / Distributor id.")
    blocked: bool = Field(description="Заблокирован. / Blocked.")
    activated_at: datetime | None = Field(description="Активирован. / Activated.")
    activated_key: str | None = Field(description="Ключ активации. / Key it was activated on.")
    created_at: datetime = Field(description="Создан. / Created.")


class CouponPage(BaseModel):
    items: list[CouponOut] = Field(description="Купоны по возрастанию id. / Coupons by id.")
    next_cursor: str | None = Field(description="Курсор следующей страницы. / Next page cursor.")


def coupon_out(coupon: Coupon) -> CouponOut:
    return CouponOut(
        id=coupon.pk,
        code=coupon.code,
        kind=coupon.batch.kind,
        state=coupon_state(coupon),
        batch_id=coupon.batch_id,
        invoice_number=coupon.batch.invoice_number,
        distributor_id=coupon.batch.distributor_id,
        blocked=coupon.blocked,
        activated_at=coupon.activated_at,
        activated_key=coupon.activated_key.number if coupon.activated_key else None,
        created_at=coupon.batch.created_at,
    )


class CouponFilters(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: QueryText64 = Field(default="", description="Точно этот код. / Exactly this code.")
    invoice: QueryText64 = Field(default="", description="Номер счёта в CRM. / CRM invoice number.")
    batch: int | None = Field(default=None, ge=1, le=2**62, description="Партия. / Batch id.")
    key: QueryText64 = Field(default="", description="Активирован на ключе. / Activated on key.")
    state: Literal["", "free", "activated", "reusable", "blocked"] = Field(
        default="", description="Состояние. / State."
    )
    cursor: QueryText20 = Field(default="", description="Курсор страницы. / Page cursor.")
    limit: int = Field(default=100, ge=1, le=MAX_PAGE, description="Размер страницы. / Size.")


@router.get("/coupons", response={200: CouponPage, **ERRORS}, summary="Search coupons")
@requires("view", "coupons.coupon")
def coupons_list(request: HttpRequest, filters: Query[CouponFilters]) -> CouponPage:
    query_known(request, CouponFilters)
    coupons = Coupon.objects.select_related("batch", "activated_key")
    if filters.code:
        coupons = coupons.filter(code=coupon_code_parse(filters.code) or filters.code)
    if filters.invoice:
        coupons = coupons.filter(batch__invoice_number=filters.invoice)
    if filters.batch is not None:
        coupons = coupons.filter(batch_id=filters.batch)
    if filters.key:
        coupons = coupons.filter(activations__key__number=filters.key.strip()).distinct()
    if filters.state:
        coupons = coupons_in_state(coupons, filters.state)
    found = list(
        coupons.filter(pk__gt=page_after(filters.cursor)).order_by("id")[: filters.limit + 1]
    )
    items = found[: filters.limit]
    return CouponPage(
        items=[coupon_out(coupon) for coupon in items],
        next_cursor=str(items[-1].pk) if len(found) > filters.limit else None,
    )


class ActivateIn(BaseModel):
    key: Text64 = Field(description="Лицензионный ключ. / License key.")
    code: Text64 = Field(description="Код купона. / Coupon code.")


class ActivationOut(BaseModel):
    id: int = Field(description="Номер активации. / Activation id.")
    coupon: str = Field(description="Код купона. / Coupon code.")
    key: str = Field(description="Ключ. / License key.")
    activated_at: datetime = Field(description="Активирован. / Activated.")
    deactivated_at: datetime | None = Field(description="Деактивирован. / Deactivated.")


def activation_out(activation: Activation) -> ActivationOut:
    return ActivationOut(
        id=activation.pk,
        coupon=activation.coupon.code,
        key=activation.key.number,
        activated_at=activation.activated_at,
        deactivated_at=activation.deactivated_at,
    )


@router.post(
    "/coupons/activate",
    response={200: ActivationOut, **ERRORS},
    summary="Activate a coupon on a key",
)
@requires("add", "coupons.activation")
def coupon_activate_call(request: HttpRequest, payload: ActivateIn) -> ActivationOut:
    activation = coupon_activate(
        key_number=payload.key, code=payload.code, door=Door.API, actor=api_actor_of(request)
    )
    return activation_out(activation)


class DeactivateIn(BaseModel):
    key: Text64 = Field(
        default="",
        description="Ключ, на котором отменить (для многоразового купона). / The key to undo "
        "it on (for a reusable coupon).",
    )


@router.post(
    "/coupons/{code}/deactivate",
    response={200: ActivationOut, **ERRORS},
    summary="Deactivate a coupon: the key's lines go back as they were",
)
@requires("change", "coupons.activation")
def coupon_deactivate_call(request: HttpRequest, code: str, payload: DeactivateIn) -> ActivationOut:
    activations = Activation.objects.select_related("coupon", "key").filter(
        coupon__code=coupon_code_parse(code) or code, deactivated_at__isnull=True
    )
    if payload.key:
        activations = activations.filter(key__number=payload.key.strip())
    activation = activations.order_by("-activated_at", "-id").first()
    if activation is None:
        raise not_found(_("No activation of this coupon to undo."))
    undone = activation_deactivate(activation=activation, actor=api_actor_of(request))
    return activation_out(Activation.objects.select_related("coupon", "key").get(pk=undone.pk))


class CouponBlockIn(BaseModel):
    blocked: bool = Field(description="true: заблокировать, false: снять. / Block or unblock.")


@router.post(
    "/coupons/{code}/block", response={200: CouponOut, **ERRORS}, summary="Block or unblock"
)
@requires("change", "coupons.coupon")
def coupon_block_call(request: HttpRequest, code: str, payload: CouponBlockIn) -> CouponOut:
    coupons = Coupon.objects.filter(code=coupon_code_parse(code) or code)
    if not coupons.exists():
        raise not_found()
    coupons_set_blocked(coupons=coupons, blocked=payload.blocked, actor=api_actor_of(request))
    return coupon_out(Coupon.objects.select_related("batch", "activated_key").get(pk=coupons[0].pk))
