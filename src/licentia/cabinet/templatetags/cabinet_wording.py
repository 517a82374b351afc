from typing import Any

from django import template

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
