"""GET /api/v1/me: the key a call is made with, for checking a script's set-up."""

from datetime import datetime

from django.http import HttpRequest
from ninja import Router
from pydantic import BaseModel, Field

from licentia.api.vendor import ERRORS, request_key

router = Router(tags=["key"])


class MeOut(BaseModel):
    id: int = Field(description="Номер ключа API. / The API key's id.")
    name: str = Field(description="Название ключа. / The key's name.")
    role: str = Field(description="Роль: full, readonly, support, sales. / The key's role.")
    created_at: datetime = Field(description="Создан. / Created.")


@router.get("/me", response={200: MeOut, **ERRORS}, summary="The API key of this call")
def me(request: HttpRequest) -> MeOut:
    key = request_key(request)
    return MeOut(id=key.pk, name=key.name, role=key.role, created_at=key.created_at)
