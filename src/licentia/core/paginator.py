from django.core.paginator import Paginator
from django.utils.functional import cached_property

# Lists show at most this many results: counting every match of a common word in a million
# clients costs more than the page itself, and nobody pages on through thousands; they type
# another word.
COUNT_LIMIT = 2000


class CappedCountPaginator(Paginator):
    @cached_property
    def count(self) -> int:
        # Without ordering: how many of them is the same in any order, and the database then
        # counts ids from an index instead of sorting whole rows first.
        return self.object_list.order_by()[:COUNT_LIMIT].count()  # type: ignore[attr-defined]
