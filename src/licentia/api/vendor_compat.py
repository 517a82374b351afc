"""The calls 1C vendors' code already makes to the hosted licensing service, with its field
names and answers, so that existing 1C code works by changing the base URL and the key."""

import json
import re
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Annotated, Any

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Router
from pydantic import AfterValidator, BaseModel, Field, StrictFloat, StrictInt, StrictStr

from licentia.api.geo import ip_place
from licentia.api.vendor import INVALID, ApiError, ErrorOut, api_actor_of, requires, vendor_api
from licentia.catalog.models import Product
from licentia.clients.models import Distributor
from licentia.core.moments import day_end
from licentia.coupons.models import CouponKind, Term
from licentia.coupons.services import Row, coupon_batch_generate
from licentia.keys.models import KeyLine, LicenseKey
from licentia.keys.selectors import line_is_live, lines_ending
from licentia.licensing.selectors import (
    clients_using,
    key_number_parse,
    trial_app_versions,
    trial_lines,
)

router = Router(tags=["compatible"])

MAX_TRIALS = 500
KINDS = {
    "NewProduct": CouponKind.NEW_PRODUCT,
    "TrialExtend": CouponKind.TRIAL_EXTEND,
    "Upgrade": CouponKind.UPGRADE,
}


class MessageOut(BaseModel):
    message: str = Field(description="Текст ошибки. / What went wrong.")


COMPAT_ERRORS: dict[int | frozenset[int], Any] = {
    frozenset({400, 404}): MessageOut,
    frozenset({401, 403, 409, 422, 429, 503}): ErrorOut,
}


class CompatError(Exception):
    """A refusal in the hosted service's shape: `{"message": ...}`."""

    def __init__(self, status: int, message: str) -> None:
        self.status = status
        self.message = message
        super().__init__(message)


@vendor_api.exception_handler(CompatError)
def on_compat_error(request: HttpRequest, exc: CompatError) -> HttpResponse:
    return vendor_api.create_response(request, {"message": exc.message}, status=exc.status)


def _text(value: Any) -> str:
    """A number where the documentation has a string is taken as its text; null as empty."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


_NO_NUL = r"^[^\x00]*$"
if TYPE_CHECKING:
    Text = str
    LongText = str
else:
    # 1C sends numbers as strings or as numbers, and an undefined value as null.
    Text = Annotated[
        Annotated[StrictStr, Field(max_length=500, pattern=_NO_NUL)]
        | Annotated[StrictInt, Field(ge=-(2**53), le=2**53)]
        | Annotated[StrictFloat, Field(allow_inf_nan=False)]
        | None,
        AfterValidator(_text),
    ]
    LongText = Annotated[
        Annotated[StrictStr, Field(max_length=5000, pattern=_NO_NUL)] | None,
        AfterValidator(_text),
    ]

DATE_FORMATS = ("%Y-%m-%d", "%d.%m.%Y", "%Y%m%d", "%Y%m%d%H%M%S")


def _date(value: str, field: str) -> date | None:
    """A date as 1C sends it: 2025-05-31, 2025-05-31T00:00:00, 31.05.2025, 20250531."""
    text = value.strip()
    if not text or text.startswith("0001-01-01"):
        return None
    text = re.sub(r"[T ]\d\d:\d\d(:\d\d)?(\.\d+)?([+-]\d\d:?\d\d|Z)?$", "", text)
    for pattern in DATE_FORMATS:
        try:
            return datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    raise ApiError(
        422, INVALID, _("The request is invalid."), {field: [_("Enter a date: YYYY-MM-DD.")]}
    )


def _count(value: str, field: str) -> int:
    text = value.strip().replace(" ", "").replace("\xa0", "")
    try:
        number = float(text.replace(",", ".")) if text else 0.0
    except ValueError:
        raise ApiError(
            422, INVALID, _("The request is invalid."), {field: [_("Enter a whole number.")]}
        ) from None
    if number != int(number) or abs(number) > 2_000_000_000:
        raise ApiError(
            422, INVALID, _("The request is invalid."), {field: [_("Enter a whole number.")]}
        )
    return int(number)


def _local(moment: datetime) -> str:
    """A moment as 1C reads a date: local time, no zone."""
    return timezone.localtime(moment).replace(tzinfo=None).isoformat(timespec="seconds")


# POST /coupons/generate


class ProductIn(BaseModel):
    guid: Text = Field(
        description="CRM GUID продукта или его номер строкой. / The product's CRM GUID, or "
        "its id as a string."
    )
    multiplier: Text = Field(
        default="1", description="Множитель (строка или число). / Multiplier, string or number."
    )
    fixedexpire: Text = Field(
        default="",
        description="Срок до даты (YYYY-MM-DD); пусто: нет. / Valid until this date; empty: "
        "no fixed date.",
    )
    extenddays: Text = Field(
        default="0",
        description="Дней после активации (NewProduct, Upgrade) или дней продления триала "
        "(TrialExtend); 0: бессрочно. / Days after activation (NewProduct, Upgrade) or days "
        "added to the trial (TrialExtend); 0: perpetual.",
    )


class GenerateIn(BaseModel):
    coupontype: Text = Field(
        description="NewProduct (добавить продукт), TrialExtend (продлить триал), Upgrade "
        "(изменить состав ключа). / NewProduct, TrialExtend or Upgrade."
    )
    couponscount: Text = Field(
        default="1", description="Сколько купонов (1-10000). / How many codes (1-10000)."
    )
    usemanytimes: Text = Field(
        default="0",
        description="1: один многоразовый купон (только TrialExtend). / 1: one reusable code "
        "(TrialExtend only).",
    )
    distributorguid: Text = Field(
        default="", description="GUID дистрибьютора или пусто. / The distributor's GUID or empty."
    )
    crminvoice: Text = Field(default="", description="Номер счёта в CRM. / CRM invoice number.")
    crminvoicedate: Text = Field(default="", description="Дата счёта в CRM. / CRM invoice date.")
    description: LongText = Field(default="", description="Комментарий. / Comment.")
    licensekey: Text = Field(
        default="",
        description="Для Upgrade: ключ, состав которого меняет купон. / For Upgrade: the key "
        "whose products the coupon changes.",
    )
    products: list[ProductIn] = Field(
        default_factory=list,
        max_length=200,
        description="Продукты купона (для Upgrade: весь новый состав ключа). / The coupon's "
        "products (for Upgrade: everything the key will hold).",
    )


def _product(guid: str) -> Product:
    text = guid.strip()
    product = Product.objects.filter(crm_guid=text).first() if text else None
    if product is None and text.isdigit() and len(text) < 10:
        product = Product.objects.filter(pk=int(text)).first()
    if product is None:
        raise CompatError(404, f"Unknown product GUID: {text}")
    return product


def _distributor(guid: str) -> Distributor | None:
    text = guid.strip().strip("{}")
    if not text or text == "00000000-0000-0000-0000-000000000000":
        return None
    try:
        return Distributor.objects.get(guid=text)
    except (Distributor.DoesNotExist, ValidationError, ValueError):
        raise CompatError(404, "Unknown distributor GUID") from None


def _row(kind: str, item: ProductIn, index: int, kept: dict[int, KeyLine]) -> Row:
    product = _product(item.guid)
    days = _count(item.extenddays, f"products.{index}.extenddays")
    multiplier = _count(item.multiplier or "1", f"products.{index}.multiplier")
    line = kept.get(product.pk)
    if kind == CouponKind.TRIAL_EXTEND:
        return Row(product=product, days=days or None)
    expires_on = _date(item.fixedexpire, f"products.{index}.fixedexpire")
    if expires_on is not None:
        return Row(
            product=product,
            multiplier=multiplier,
            term=Term.FIXED_DATE,
            expires_at=day_end(expires_on),
            key_line_id=line.pk if line else None,
        )
    if days > 0:
        return Row(
            product=product,
            multiplier=multiplier,
            term=Term.DAYS,
            days=days,
            key_line_id=line.pk if line else None,
        )
    return Row(product=product, multiplier=multiplier, key_line_id=line.pk if line else None)


@router.post(
    "/coupons/generate",
    response={200: list[str], **COMPAT_ERRORS},
    summary="Generate coupons (compatible call)",
    description="Купоны при оплате счёта: ответ - список кодов. / Coupons on a paid invoice: "
    "the answer is the list of codes.",
)
@requires("add", "coupons.couponbatch")
def coupons_generate(request: HttpRequest, payload: GenerateIn) -> Any:
    kind = KINDS.get(payload.coupontype.strip())
    if kind is None:
        raise ApiError(
            422,
            INVALID,
            _("The request is invalid."),
            {"coupontype": [_("Choose one of: %(expected)s.") % {"expected": ", ".join(KINDS)}]},
        )
    count = _count(payload.couponscount, "couponscount")
    if count <= 0:
        raise CompatError(400, "Count must be bigger than 0")
    reusable = _count(payload.usemanytimes, "usemanytimes") != 0
    distributor = _distributor(payload.distributorguid)
    target_key = None
    kept: dict[int, KeyLine] = {}
    if kind == CouponKind.UPGRADE:
        number = key_number_parse(payload.licensekey) if payload.licensekey.strip() else ""
        target_key = LicenseKey.objects.filter(number=number).first() if number else None
        if target_key is None:
            raise CompatError(404, "Unknown license key")
        moment = timezone.now()
        for line in target_key.lines.order_by("id"):
            if line_is_live(line, at=moment):
                kept.setdefault(line.product_id, line)
    rows = [_row(kind, item, index, kept) for index, item in enumerate(payload.products)]
    try:
        batch = coupon_batch_generate(
            kind=kind,
            rows=rows,
            actor=api_actor_of(request),
            count=count,
            reusable=reusable,
            target_key=target_key,
            distributor=distributor,
            invoice_number=payload.crminvoice.strip()[:64],
            invoice_date=_date(payload.crminvoicedate, "crminvoicedate"),
            comment=payload.description,
        )
    except ValidationError as error:
        raise ApiError(
            422, INVALID, " ".join(error.messages), {"products": list(error.messages)}
        ) from error
    return list(batch.coupons.order_by("id").values_list("code", flat=True))


# POST /trials/new


class TrialsIn(BaseModel):
    lastresultid: Text = Field(
        default="0",
        description="result_id последнего полученного триала; 0: с начала. / The result_id of "
        "the last trial fetched; 0: from the start.",
    )


class TrialOut(BaseModel):
    result_id: int = Field(description="Номер для следующего запроса. / The cursor.")
    licensekey: str = Field(description="Лицензионный ключ. / License key.")
    product: str = Field(description="Продукт. / Product.")
    dateactivated: str = Field(
        description="Когда взят триал (местное время, YYYY-MM-DDTHH:MM:SS). / When the trial "
        "was taken (local time)."
    )
    email: str = Field(description="E-mail.")
    contact: str = Field(description="Контактное лицо. / Contact person.")
    shortname: str = Field(description="Компания. / Company.")
    phone: str = Field(description="Телефон. / Phone.")
    description: str = Field(
        description="Откуда взят триал. / Where the trial came from: Get trial from <version>."
    )
    inn: str = Field(description="ИНН (CRM ID1). / INN (CRM ID1).")


@router.post(
    "/trials/new",
    response={200: list[TrialOut], **COMPAT_ERRORS},
    summary="New trials after a result id (compatible call)",
    description="Не больше 500 за вызов, старые первыми. / At most 500 a call, oldest first.",
)
@requires("view", "keys.keyline")
def trials_new(request: HttpRequest, payload: TrialsIn) -> list[TrialOut]:
    after = max(_count(payload.lastresultid or "0", "lastresultid"), 0)
    lines = list(trial_lines(after_id=after)[:MAX_TRIALS])
    versions = trial_app_versions(lines)
    answer = []
    for line in lines:
        client = line.key.client
        version = versions.get(line.pk, "")
        answer.append(
            TrialOut(
                result_id=line.pk,
                licensekey=line.key.number,
                product=line.product.name_ru,
                dateactivated=_local(line.starts_at),
                email=client.email,
                contact=client.contact,
                shortname=client.company,
                phone=client.phone,
                description=f"Get trial from {version}".strip(),
                inn=client.crm_id1,
            )
        )
    return answer


# POST /subscriptions/expiring


class ExpiringIn(BaseModel):
    DATE_FROM: Text = Field(description="Начало периода (включительно). / Period start.")
    DATE_TO: Text = Field(description="Конец периода (включительно). / Period end, inclusive.")
    TRIALS: Text = Field(
        default="false",
        description='"true": и триалы тоже; "false": только подписки. / "true": trials too; '
        '"false": paid subscriptions only.',
    )


class ExpiringOut(BaseModel):
    licensekey: str = Field(description="Лицензионный ключ. / License key.")
    companyname: str = Field(description="Компания. / Company.")
    contact: str = Field(description="Контактное лицо. / Contact person.")
    email: str = Field(description="E-mail.")
    crmRef1: str = Field(description="CRM ID1 (ИНН). / CRM ID1 (INN).")
    crmRef2: str = Field(description="CRM ID2 (контрагент 1С). / CRM ID2.")
    product: str = Field(description="Продукт (по-русски). / Product, Russian name.")
    product_en: str = Field(description="Продукт (по-английски). / Product, English name.")
    expired: str = Field(
        description="Дата окончания (местное время). / Expiry (local time, YYYY-MM-DDTHH:MM:SS)."
    )
    distributor: str = Field(description="Дистрибьютор. / Distributor.")
    responsible: str = Field(description="Ответственный менеджер. / Responsible manager.")


def _period(payload: ExpiringIn) -> tuple[datetime, datetime]:
    first = _date(payload.DATE_FROM, "DATE_FROM")
    last = _date(payload.DATE_TO, "DATE_TO")
    missing = [name for name, value in (("DATE_FROM", first), ("DATE_TO", last)) if value is None]
    if first is None or last is None:
        raise ApiError(
            422,
            INVALID,
            _("The request is invalid."),
            {name: [_("This field is required.")] for name in missing},
        )
    start = timezone.make_aware(datetime.combine(first, time.min))
    end = timezone.make_aware(datetime.combine(last + timedelta(days=1), time.min))
    return start, end


def _manager_name(line: KeyLine) -> str:
    manager = line.key.client.manager
    if manager is None:
        return ""
    return manager.get_full_name() or manager.get_username()


@router.post(
    "/subscriptions/expiring",
    response={200: list[ExpiringOut], **COMPAT_ERRORS},
    summary="Subscriptions ending in a period (compatible call)",
)
@requires("view", "keys.keyline")
def subscriptions_expiring(request: HttpRequest, payload: ExpiringIn) -> list[ExpiringOut]:
    start, end = _period(payload)
    trials = payload.TRIALS.strip().lower() in ("true", "1", "yes", "истина", "да")
    answer = []
    for line in lines_ending(start=start, end=end, trials=trials)[:10_000]:
        client = line.key.client
        assert line.expires_at is not None
        answer.append(
            ExpiringOut(
                licensekey=line.key.number,
                companyname=client.company,
                contact=client.contact,
                email=client.email,
                crmRef1=client.crm_id1,
                crmRef2=client.crm_id2,
                product=line.product.name_ru,
                product_en=line.product.name_en or line.product.name_ru,
                expired=_local(line.expires_at),
                distributor=client.distributor.name if client.distributor else "",
                responsible=_manager_name(line),
            )
        )
    return answer


# POST /map

MAP_DAYS = 30
MAX_FEATURES = 1000


class MapIn(BaseModel):
    features: (
        list[Annotated[StrictInt, Field(ge=1, le=2_147_483_647)]]
        | Annotated[StrictStr, Field(max_length=20_000, pattern=_NO_NUL)]
    ) = Field(
        description='Номера фич: JSON-массив или он же строкой ("[1, 2]"). / Feature ids: a '
        "JSON array, or that array as a string."
    )


class PlaceOut(BaseModel):
    latitude: float = Field(description="Широта. / Latitude.")
    longitude: float = Field(description="Долгота. / Longitude.")
    online: bool = Field(description="Клиент занимает место сейчас. / The client holds a seat now.")


def _feature_ids(features: list[int] | str) -> list[int]:
    if isinstance(features, list):
        ids = features
    else:
        try:
            parsed = json.loads(features)
        except ValueError:
            parsed = None
        if not isinstance(parsed, list) or not all(
            isinstance(item, int) and not isinstance(item, bool) and 1 <= item < 2**31
            for item in parsed
        ):
            raise ApiError(
                422,
                INVALID,
                _("The request is invalid."),
                {"features": [_("Enter a JSON array of feature ids.")]},
            )
        ids = parsed
    if len(ids) > MAX_FEATURES:
        raise ApiError(
            422,
            INVALID,
            _("The request is invalid."),
            {
                "features": [
                    _("Enter at most %(max_length)s entries.") % {"max_length": MAX_FEATURES}
                ]
            },
        )
    return sorted(set(ids))


@router.post(
    "/map",
    response={200: list[PlaceOut], **COMPAT_ERRORS},
    summary="Where the clients using features are (compatible call)",
    description="Клиенты с сессиями этих фич за 30 дней: точка - центр страны по IP, без "
    "названий компаний. / Clients with sessions of these features in the last 30 days: a "
    "point is the centre of the IP's country (located offline), never a company name.",
)
@requires("view", "licensing.session")
def clients_map(request: HttpRequest, payload: MapIn) -> list[PlaceOut]:
    moment = timezone.now()
    places = clients_using(
        feature_ids=_feature_ids(payload.features),
        since=moment - timedelta(days=MAP_DAYS),
        moment=moment,
    )
    answer = []
    for place in places:
        point = ip_place(place.ip)
        if point is not None:
            answer.append(PlaceOut(latitude=point[0], longitude=point[1], online=place.online))
    return answer
