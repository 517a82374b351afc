import json
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client as HttpClient

from licentia.api.services import api_key_create
from licentia.core.audit import Actor

ACTOR = Actor.system("tests")

Call = Callable[..., Any]


@pytest.fixture
def token_of(db: None) -> Callable[[str], str]:
    """A fresh API key of the role (full, readonly, support, sales): its bearer token."""

    def make(role: str) -> str:
        return api_key_create(name=f"1C {role}", role=role, actor=ACTOR).token

    return make


@pytest.fixture
def api(client: HttpClient, token_of: Callable[[str], str]) -> Call:
    """Calls /api/v1/ with a key of the role (default full): api("post", "clients", {...})."""
    tokens: dict[str, str] = {}

    def call(
        method: str, path: str, body: Any = None, *, role: str = "full", token: str | None = None
    ) -> Any:
        if token is None:
            if role not in tokens:
                tokens[role] = token_of(role)
            token = tokens[role]
        headers = {"Authorization": f"Bearer {token}"}
        url = f"/api/v1/{path}"
        if method == "get":
            return client.get(url, data=body or {}, headers=headers)
        return getattr(client, method)(
            url,
            data=body if isinstance(body, str) else json.dumps(body or {}),
            content_type="application/json",
            headers=headers,
        )

    return call
