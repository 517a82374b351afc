from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from licentia.clients.models import ClientFieldDefinition
from licentia.transfer.reading import EXTRA_PREFIX, FIELDS, SKIP


class UploadForm(forms.Form):
    file = forms.FileField(
        label=_("File"),
        help_text=_(
            "CSV (UTF-8 or Windows-1251, separated by ; or ,) or XLSX; the first row names the "
            "columns. A row is a client, with its key and one product of the key."
        ),
    )


def field_choices() -> list[tuple[str, Any]]:
    choices: list[tuple[str, Any]] = [(SKIP, _("— skip —"))]
    choices += [(info.name, info.label) for info in FIELDS]
    choices += [
        (f"{EXTRA_PREFIX}{definition.code}", f"{_('Additional field')}: {definition.label_ru}")
        for definition in ClientFieldDefinition.objects.filter(archived=False)
    ]
    return choices


class MappingForm(forms.Form):
    dry_run = forms.BooleanField(
        label=_("Dry run: check every row and report, change nothing"), required=False
    )

    def __init__(self, *args: Any, headers: list[str], guessed: dict[str, str], **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.headers = headers
        choices = field_choices()
        for index, header in enumerate(headers):
            self.fields[f"column_{index}"] = forms.ChoiceField(
                label=header or f"#{index + 1}",
                choices=choices,
                required=False,
                initial=guessed.get(header, SKIP),
            )

    def mapping(self) -> dict[str, str]:
        return {
            header: self.cleaned_data.get(f"column_{index}") or SKIP
            for index, header in enumerate(self.headers)
        }
