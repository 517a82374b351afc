from django.core.paginator import Paginator
from django.utils.functional import cached_property

# Lists show at most this many results: counting every match of a common word in a million
# clients costs more than the page itself, and nobody pages on through thousands; they type
# another word.
COUNT_LIMIT = 2000


class CappedCountPaginator(Paginator):
    @cached_property
    def count(self) -> int:
        return self.object_list[:COUNT_LIMIT].count()  # type: ignore[attr-defined]
