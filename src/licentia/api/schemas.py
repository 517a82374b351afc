"""Shapes of the application protocol's requests and answers, as the OpenAPI shows them.

Plain pydantic models, not django-ninja's Schema: that one wraps every value for Django
attribute lookups, which cost a fifth of a protocol call's Python time (bench/RESULTS.md)."""

from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

from pydantic import BaseModel, Field, StrictInt, StringConstraints

# No NUL character: PostgreSQL cannot store one, and no name or version needs it.
_NO_NUL = r"^[^\x00]*$"


def _text(max_length: int, min_length: int = 0) -> StringConstraints:
    return StringConstraints(min_length=min_length, max_length=max_length, pattern=_NO_NUL)


Name = Annotated[str, _text(200)]
RequiredName = Annotated[str, _text(200, 1)]
Company = Annotated[str, _text(300, 1)]
Email = Annotated[str, _text(254, 3)]
Phone = Annotated[str, _text(64)]
Inn = Annotated[str, _text(12)]
ShortText = Annotated[str, _text(64)]
KeyNumber = Annotated[str, _text(64, 1)]
Comment = Annotated[str, _text(500)]
IdempotencyKey = Annotated[str, _text(100)]
Nonce = Annotated[str, _text(128)]
# Strict: a number is a JSON number, never true or "1" (a client sending those has a bug).
FeatureId = Annotated[StrictInt, Field(ge=1, le=2_147_483_647)]
ProductId = FeatureId
Fingerprint = Annotated[
    dict[Annotated[str, _text(64, 1)], Annotated[str, _text(500)]], Field(max_length=32)
]
Language = Literal["ru", "en"]


class Refusal(BaseModel):
    code: int = Field(examples=[2008])
    message: str
    errors: dict[str, list[str]] | None = Field(
        None, description="Field errors of an invalid request (code 4220)."
    )


class TrialIn(BaseModel):
    product_id: ProductId
    company: Company
    contact: Name = ""
    email: Email
    phone: Phone = ""
    inn: Inn = ""
    user: RequiredName
    host: RequiredName
    database: Name = ""
    fingerprint: Fingerprint
    app_version: ShortText = ""
    language: Language | None = None
    nonce: Nonce | None = None


class LicenseIn(BaseModel):
    key: KeyNumber
    fingerprint: Fingerprint | None = None
    nonce: Nonce | None = None
    language: Language | None = None


class CaptureIn(BaseModel):
    key: KeyNumber
    feature_id: FeatureId
    user: Name = ""
    host: Name = ""
    database: Name = ""
    process_id: ShortText = ""
    fingerprint: Fingerprint | None = None
    app_version: ShortText = ""
    nonce: Nonce | None = None
    language: Language | None = None


class HeartbeatIn(BaseModel):
    session_id: UUID
    nonce: Nonce | None = None
    language: Language | None = None


class ReleaseIn(BaseModel):
    session_id: UUID
    language: Language | None = None


class TokensIn(BaseModel):
    key: KeyNumber
    feature_id: FeatureId
    amount: StrictInt = Field(ge=1, le=1_000_000_000)
    comment: Comment = ""
    idempotency_key: IdempotencyKey = ""
    language: Language | None = None


class ClientOut(BaseModel):
    company: str
    contact: str
    email: str
    phone: str
    language: str


class ProductFeatureOut(BaseModel):
    id: int
    name: str
    type: str
    count: int


class ProductOut(BaseModel):
    id: int
    name: str
    trial: bool
    state: str = Field(description="active, pending, expired, or how the line ended.")
    status: str = Field(description="The line as the vendor cabinet words it.")
    starts_at: datetime
    expires_at: datetime | None
    multiplier: int
    features: list[ProductFeatureOut]


class SummaryOut(BaseModel):
    feature_id: int
    feature_name: str
    type: str
    total: int
    occupied: int = Field(description="Seats held now; for TOKEN, tokens consumed.")
    free: int = Field(description="Seats free now; for TOKEN, the balance.")


class LicenseOut(BaseModel):
    key: str
    blocked: bool
    client: ClientOut
    products: list[ProductOut]
    summary: list[SummaryOut]
    certificate: str


class TrialOut(LicenseOut):
    trial_granted: bool = Field(
        description="False when the key had its trial of this product already."
    )


class CaptureOut(BaseModel):
    session_id: UUID
    type: str
    binding: str
    lease_seconds: int
    lease_expires_at: datetime
    certificate: str


class HeartbeatOut(BaseModel):
    session_id: UUID
    lease_expires_at: datetime
    certificate: str


class ReleaseOut(BaseModel):
    session_id: UUID
    released_at: datetime | None
    ended_at: datetime | None
    bound: bool = Field(description="True when the seat stays bound to its unit after release.")


class TokensOut(BaseModel):
    balance: int


class MetricIn(BaseModel):
    name: Annotated[str, _text(100, 1)] = Field(examples=["configuration"])
    value: Annotated[str, _text(300)] | StrictInt | float = Field(
        examples=["УТ 11.5"], description="Text or a number; stored as text."
    )
    count: Annotated[StrictInt, Field(ge=1, le=1_000_000_000)] = Field(
        1, description="How many times the value was seen (e.g. calls of a function)."
    )
    at: datetime | None = Field(None, description="When observed; empty: when received.")


class MetricsIn(BaseModel):
    key: KeyNumber
    session: UUID | None = Field(
        None, description="A session of the key: the observations are of its feature."
    )
    metrics: list[MetricIn] = Field(max_length=1000)
    language: Language | None = None


class MetricsOut(BaseModel):
    accepted: int = Field(description="Observations stored.")
    ignored: int = Field(description="Observations under names the vendor does not accept.")


class PublicKeyOut(BaseModel):
    algorithm: Literal["Ed25519"]
    public_key: str = Field(description="The raw 32-byte public key in base64.")
    pem: str
    certificate_prefix: str = Field(description="The bytes signed before a certificate's payload.")


CouponCode = Annotated[str, _text(64, 1)]


class CouponIn(BaseModel):
    key: KeyNumber
    coupon: CouponCode
    fingerprint: Fingerprint | None = None
    nonce: Nonce | None = None
    language: Language | None = None


class CouponOut(LicenseOut):
    coupon: str = Field(description="The coupon as stored.")
    coupon_kind: str = Field(description="new_product, trial_extend or upgrade.")
    activated_at: datetime


# Distributions and releases: the call of an installer or auto-update, in the field names and
# "Y"/"N" flags of the service 1C vendors already use.
_VERSION_OR_EMPTY = r"^([0-9]{1,9}(\.[0-9]{1,9}){0,9})?$"
Version = Annotated[str, StringConstraints(max_length=100, pattern=_VERSION_OR_EMPTY)]
YesNo = Literal["Y", "N"]


class ReleasesIn(BaseModel):
    KEY: KeyNumber
    TYPE: Annotated[str, _text(100)] = Field(
        "", description="The distribution's identifier; empty: every distribution."
    )
    INSTALLED_VERSION: Version = Field("", description="Empty: nothing installed yet.")
    CONF: Name = Field("", description="The configuration the installer runs in.")
    CONF_VERSION: Version = ""
    SHOW_UNTESTED: YesNo = Field(
        "N", description="Y: include releases not marked compatible with this configuration."
    )
    COUNT_DOWNLOADS: YesNo = Field(
        "N", description="Y: links through this server, which count each download."
    )


class ModuleFileOut(BaseModel):
    name: str
    size: int
    url: str
    md5: str


class ModuleOut(BaseModel):
    release_id: int
    uniqid: str
    version: str
    developer: str
    min_1c_version: str
    lic_product_id: int
    lic_feature_id: int
    name: str
    description: str
    promo_link: str
    changelog: str
    size: int
    download_link: str
    files: list[ModuleFileOut]


class ReleasesOut(BaseModel):
    modules: list[ModuleOut]
    result: str = ""


class ReleasesError(BaseModel):
    error: str
