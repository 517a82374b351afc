import sys

from django.db import DatabaseError, connection
from django.db.migrations.executor import MigrationExecutor
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.utils import translation
from django.views import defaults
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from licentia.core.outage import DATABASE_UNREACHABLE, RETRY_AFTER_SECONDS

# Once this process has seen every migration applied it stays so: code and migrations
# change only with a new process.
_migrations_applied = False


def _pending_migrations() -> int:
    global _migrations_applied
    if _migrations_applied:
        return 0
    executor = MigrationExecutor(connection)
    pending = len(executor.migration_plan(executor.loader.graph.leaf_nodes()))
    _migrations_applied = pending == 0
    return pending


@never_cache
@require_safe
def healthz(request: HttpRequest) -> JsonResponse:
    """For load balancers: 200 when the database answers and every migration is applied."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        pending = _pending_migrations()
    except DatabaseError:
        return JsonResponse({"status": "error", "database": "unreachable"}, status=503)
    status = 200 if pending == 0 else 503
    return JsonResponse(
        {
            "status": "ok" if status == 200 else "error",
            "database": "ok",
            "pending_migrations": pending,
        },
        status=status,
    )


def server_error(request: HttpRequest) -> HttpResponse:
    """Django's 500 page, unless the error was the database being unreachable: then a short
    page that says so, 503 with Retry-After. Django calls this while it handles the exception,
    so the exception is at hand."""
    if not isinstance(sys.exc_info()[1], DATABASE_UNREACHABLE):
        return defaults.server_error(request)
    # Rendered without the request: its context processors would ask the database for the user.
    page = render_to_string(
        "core/database_unreachable.html", {"LANGUAGE_CODE": translation.get_language()}
    )
    response = HttpResponse(page, status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response
