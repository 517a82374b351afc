"""/api/v1/releases: what a build server calls to publish a release (Full access keys)."""

from datetime import date
from typing import Annotated, Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Query, Router, Status
from pydantic import BaseModel, Field, StrictInt, StringConstraints

from licentia.api.vendor import (
    ERRORS,
    INVALID,
    ApiError,
    api_actor_of,
    not_found,
    requires_role,
)
from licentia.core.roles import FULL_ACCESS
from licentia.releases.models import Distribution, Release
from licentia.releases.selectors import newest_first
from licentia.releases.services import (
    CompatibilityIn,
    FileIn,
    ReleaseIn,
    release_delete,
    release_publish,
)

router = Router(tags=["releases"])

_NO_NUL = r"^[^\x00]*$"
_VERSION = r"^[0-9]{1,9}(\.[0-9]{1,9}){0,9}$"
_VERSION_OR_EMPTY = r"^([0-9]{1,9}(\.[0-9]{1,9}){0,9})?$"
Version = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=_VERSION)]
OptionalVersion = Annotated[str, StringConstraints(max_length=64, pattern=_VERSION_OR_EMPTY)]
Text = Annotated[str, StringConstraints(max_length=20000, pattern=_NO_NUL)]
Id = Annotated[StrictInt, Field(ge=1, le=2**62)]


class FileBody(BaseModel):
    name: Annotated[str, StringConstraints(min_length=1, max_length=255, pattern=_NO_NUL)]
    url: Annotated[
        str, StringConstraints(min_length=8, max_length=1000, pattern=r"^https?://[^\s\x00]+$")
    ] = Field(description="Ссылка на файл у вендора. / The vendor-hosted link.")
    size: Annotated[StrictInt, Field(ge=0, le=2**62)] = 0
    md5: Annotated[str, StringConstraints(pattern=r"^([0-9a-f]{32})?$")] = ""
    sha256: Annotated[str, StringConstraints(pattern=r"^([0-9a-f]{64})?$")] = ""


class CompatibilityBody(BaseModel):
    configuration: Annotated[str, StringConstraints(min_length=1, max_length=200, pattern=_NO_NUL)]
    min_version: OptionalVersion = ""
    max_version: OptionalVersion = ""


class ReleaseBody(BaseModel):
    distribution_id: Id = Field(description="Дистрибутив. / The distribution's id.")
    version: Version = Field(description="Версия, например 4.0.10. / e.g. 4.0.10.")
    released_on: date = Field(description="Дата релиза. / The release date.")
    prerelease: bool = Field(False, description="Предрелиз. / Pre-release: testers only.")
    whats_new_ru: Text = ""
    whats_new_en: Text = ""
    min_platform_version: OptionalVersion = Field(
        "", description="Минимальная версия платформы. / Minimal 1C platform version."
    )
    files: list[FileBody] = Field(min_length=1, max_length=50)
    compatibility: list[CompatibilityBody] = Field(default_factory=list, max_length=100)


class FileOut(BaseModel):
    id: int
    name: str
    url: str
    size: int
    md5: str
    sha256: str
    downloads: int


class ReleaseOut(BaseModel):
    id: int
    distribution_id: int
    distribution: str
    version: str
    released_on: date
    prerelease: bool
    whats_new_ru: str
    whats_new_en: str
    min_platform_version: str
    files: list[FileOut]
    compatibility: list[CompatibilityBody]


class ReleaseFilter(BaseModel):
    distribution_id: Annotated[int, Field(ge=1, le=2**62)] | None = None


def _out(release: Release) -> dict[str, Any]:
    return {
        "id": release.pk,
        "distribution_id": release.distribution_id,
        "distribution": release.distribution.identifier,
        "version": release.version,
        "released_on": release.released_on,
        "prerelease": release.prerelease,
        "whats_new_ru": release.whats_new_ru,
        "whats_new_en": release.whats_new_en,
        "min_platform_version": release.min_platform_version,
        "files": [
            {
                "id": file.pk,
                "name": file.name,
                "url": file.url,
                "size": file.size,
                "md5": file.md5,
                "sha256": file.sha256,
                "downloads": file.downloads,
            }
            for file in release.files.order_by("position", "id")
        ],
        "compatibility": [
            {
                "configuration": row.configuration,
                "min_version": row.min_version,
                "max_version": row.max_version,
            }
            for row in release.compatibility.all()
        ],
    }


@router.post(
    "",
    response={201: ReleaseOut, 200: ReleaseOut, **ERRORS},
    summary="Publish a release (create, or update the one of this version)",
    description=(
        "Idempotent by (distribution, version): 201 when created, 200 when the release of "
        "this version was updated, its files and compatibility replaced. Making a release a "
        "pre-release again withdraws it: its unsent mail is cancelled."
    ),
)
@requires_role(FULL_ACCESS)
def release_post(request: HttpRequest, payload: ReleaseBody) -> Status:
    distribution = Distribution.objects.filter(pk=payload.distribution_id).first()
    if distribution is None:
        raise not_found()
    release, created = release_publish(
        distribution=distribution,
        data=ReleaseIn(
            version=payload.version,
            released_on=payload.released_on,
            prerelease=payload.prerelease,
            whats_new_ru=payload.whats_new_ru,
            whats_new_en=payload.whats_new_en,
            min_platform_version=payload.min_platform_version,
            files=[FileIn(**file.model_dump()) for file in payload.files],
            compatibility=[CompatibilityIn(**row.model_dump()) for row in payload.compatibility],
        ),
        actor=api_actor_of(request),
    )
    return Status(201 if created else 200, _out(release))


@router.get("", response={200: list[ReleaseOut], **ERRORS}, summary="Releases, newest first")
@requires_role(FULL_ACCESS)
def release_list(request: HttpRequest, filters: Query[ReleaseFilter]) -> list[dict[str, Any]]:
    """An unknown parameter is refused: it is a mistake in the caller's script."""
    unknown = set(request.GET) - set(ReleaseFilter.model_fields)
    if unknown:
        raise ApiError(
            422,
            INVALID,
            _("The request is invalid."),
            {name: [_("Unknown parameter.")] for name in sorted(unknown)},
        )
    releases = Release.objects.select_related("distribution").prefetch_related(
        "files", "compatibility"
    )
    if filters.distribution_id is not None:
        releases = releases.filter(distribution_id=filters.distribution_id)
    return [_out(release) for release in newest_first(releases)]


@router.delete(
    "/{release_id}",
    response={204: None, **ERRORS},
    summary="Withdraw a release: delete it with its files and unsent mail",
)
@requires_role(FULL_ACCESS)
def release_remove(
    request: HttpRequest, release_id: Annotated[int, Field(ge=1, le=2**62)]
) -> Status:
    release = Release.objects.filter(pk=release_id).first()
    if release is None:
        raise not_found()
    release_delete(release=release, actor=api_actor_of(request))
    return Status(204, None)
