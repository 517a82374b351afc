from django.core.paginator import Paginator
from django.utils.functional import cached_property

# Beyond this many results a list says "10000+" instead of counting: counting every match of a
# common word in a million clients costs more than the page itself, and nobody pages that far.
COUNT_LIMIT = 10_000


class CappedCountPaginator(Paginator):
    @cached_property
    def count(self) -> int:
        return self.object_list[: COUNT_LIMIT + 1].count()  # type: ignore[attr-defined]
