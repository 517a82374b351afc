from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.utils.translation import check_for_language
from django.views.decorators.http import require_POST
from django.views.i18n import set_language

from licentia.core.models import User


@require_POST
@login_required
def cabinet_set_language(request: HttpRequest) -> HttpResponse:
    """Switches the cabinet's language and remembers it on the staff user's account."""
    language = request.POST.get("language", "")
    if isinstance(request.user, User) and check_for_language(language):
        request.user.language = language
        request.user.save(update_fields=["language"])
    return set_language(request)
