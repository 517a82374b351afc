"""The client card's part of the client cabinet: open the client's cabinet read-only, and send
or show a sign-in link."""

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from unfold.decorators import action

from licentia.clients.models import Client
from licentia.core.admin import admin_extend, cabinet_page
from licentia.core.audit import Actor
from licentia.core.normalize import row_id
from licentia.portal.selectors import client_keys, client_sign_in_addresses
from licentia.portal.services import sign_in_link_issue, sign_in_link_mail, view_as_record
from licentia.portal.views import VIEW_AS_KEY

MAIL, SHOW = "mail", "show"


class SignInLinkForm(forms.Form):
    email = forms.ChoiceField(label=gettext_lazy("Address"))
    how = forms.ChoiceField(
        label=gettext_lazy("How"),
        choices=[
            (MAIL, gettext_lazy("Mail the link to the address")),
            (SHOW, gettext_lazy("Show the link here, to copy")),
        ],
        initial=MAIL,
        widget=forms.RadioSelect,
    )

    def __init__(self, *args: object, addresses: list[str], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["email"].choices = [(a, a) for a in addresses]  # type: ignore[attr-defined]


def _client(object_id: object) -> Client:
    pk = row_id(str(object_id))
    if pk is None:
        raise Http404
    return get_object_or_404(Client, pk=pk)


class ClientCardPortal:
    """Open the client cabinet as the client (read-only, audited), and sign-in links."""

    @action(
        description=gettext_lazy("Open the client cabinet"), icon="visibility", permissions=["view"]
    )
    def detail_open_portal(self, request: HttpRequest, object_id: int) -> HttpResponse:
        client = _client(object_id)
        view_as_record(client=client, actor=Actor.from_request(request))
        request.session[VIEW_AS_KEY] = client.pk
        return HttpResponseRedirect(reverse("portal:stats"))

    @action(description=gettext_lazy("Sign-in link"), icon="link", permissions=["change"])
    def detail_sign_in_link(self, request: HttpRequest, object_id: int) -> HttpResponse:
        client = _client(object_id)
        card_url = reverse("admin:clients_client_change", args=[client.pk])
        addresses = client_sign_in_addresses(client)
        title = _("Sign-in link to the client cabinet")
        if not addresses:
            messages.error(request, _("The client has no e-mail that may sign in."))
            return HttpResponseRedirect(card_url)
        form = SignInLinkForm(
            request.POST if request.method == "POST" else None, addresses=addresses
        )
        if request.method == "POST" and form.is_valid():
            actor = Actor.from_request(request)
            email = form.cleaned_data["email"]
            try:
                if form.cleaned_data["how"] == MAIL:
                    sign_in_link_mail(
                        client=client, email=email, actor=actor, key=client_keys(client).first()
                    )
                    messages.success(
                        request,
                        _("A sign-in link valid for 15 minutes is mailed to %(email)s.")
                        % {"email": email},
                    )
                    return HttpResponseRedirect(card_url)
                url = sign_in_link_issue(client=client, email=email, actor=actor)
            except ValidationError as error:
                form.add_error(None, error.messages)
            else:
                return cabinet_page(
                    self,
                    request,
                    "portal/admin_link.html",
                    title=title,
                    link=url,
                    email=email,
                    card_url=card_url,
                )
        return cabinet_page(
            self,
            request,
            title=title,
            intro=_(
                "The link opens the cabinet of %(company)s once, within 15 minutes, for the "
                "address chosen."
            )
            % {"company": client.company},
            form=form,
            submit_label=_("Make the link"),
            cancel_url=card_url,
        )


admin_extend(
    Client,
    ClientCardPortal,
    actions_detail=["detail_open_portal", "detail_sign_in_link"],
)
