"""What the releases app serves itself: counted downloads and the uploaded images."""

from pathlib import Path

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase, HttpResponseRedirect
from django.views.decorators.http import require_GET
from django.views.static import serve

from licentia.releases.selectors import download_file, public_url, release_settings_get
from licentia.releases.services import download_count


@require_GET
def download(request: HttpRequest, token: str) -> HttpResponse:
    """Counts the download and sends on to the file (through the CDN when one is set)."""
    file = download_file(token)
    if file is None:
        raise Http404
    download_count(file=file)
    response = HttpResponseRedirect(public_url(file.url, release_settings_get()))
    response["Cache-Control"] = "no-store"
    return response


@require_GET
def media(request: HttpRequest, path: str) -> HttpResponseBase:
    """A logo or screenshot uploaded in the cabinet (stored under the data directory)."""
    response = serve(request, path, document_root=str(Path(settings.MEDIA_ROOT) / "releases"))
    response["Cache-Control"] = "public, max-age=86400"
    response["Content-Disposition"] = "inline"
    return response
