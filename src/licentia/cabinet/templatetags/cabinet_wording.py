from typing import Any

from django import template
from django.template import Context

from licentia.cabinet import wording

register = template.Library()


@register.simple_tag
def count_of(opts: Any, count: int) -> str:
    """«7 клиентов»: the counter with the model's plural forms."""
    return wording.count_of(opts, count)


@register.filter
def accusative(opts: Any) -> str:
    """The model's name as the object of a verb: «клиента»."""
    return wording.accusative(opts)


@register.simple_tag(takes_context=True)
def tab_title(context: Context) -> str:
    """The browser tab's title: «Клиенты», «Клиент (создание)», «ООО «Ромашка» (Клиент)»."""
    return wording.tab_title({str(name): value for name, value in context.flatten().items()})
