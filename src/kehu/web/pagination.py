"""Pagination that stays fast on a register of millions of rows."""

from __future__ import annotations

from typing import Any

from django.core.paginator import InvalidPage, Page, Paginator
from django.db.models import QuerySet
from django.utils.functional import cached_property

# Up to this many matches, one query gives every page and the count (see below).
FEW_MATCHES = 1_000


class CappedPaginator(Paginator):
    """Pages over an ordered queryset of ids, counting at most `cap` rows.

    Two cases, so that neither a search nor a plain list reads the table more than it must:

    - Few matches (a search that finds some hundreds of customers among a million): one query
      reads the ids of all of them in order, and the page and the count come from that list;
      the table is read once, not twice (page, then count):

          SELECT id FROM t WHERE id IN (SELECT id FROM t WHERE <filter> LIMIT 1001)
          ORDER BY <sort>

    - Many matches: that query stops after 1,001 of them; the page is read with the plain
      ordered query (an index usually serves it) and counted with
      `SELECT COUNT(*) FROM (SELECT … LIMIT cap + 1)`, which stops after cap + 1 rows. Beyond
      the cap the page says "more than cap" (`is_capped`) and offers pages up to the cap:
      paging further into a million rows is not useful, and OFFSET that deep is slow.
    """

    def __init__(self, object_list: QuerySet[Any], per_page: int, cap: int) -> None:
        super().__init__(object_list, per_page)
        self.queryset = object_list
        self.cap = cap
        self.is_capped = False
        self._all_ids: list[Any] | None = None

    @cached_property
    def count(self) -> int:
        if self._all_ids is not None:
            return len(self._all_ids)
        counted = self.queryset.order_by()[: self.cap + 1].count()
        self.is_capped = counted > self.cap
        return min(counted, self.cap)

    def get_page(self, number: Any) -> Page:
        self._read_all_if_few_match()
        try:
            return self.page(number)
        except InvalidPage:
            try:
                return self.page(max(1, int(number)))
            except (TypeError, ValueError):
                return self.page(1)
            except InvalidPage:
                return self.page(self.num_pages)

    def page(self, number: Any) -> Page:
        number = self.validate_number(number)
        if self._all_ids is None:
            return super().page(number)
        start = (number - 1) * self.per_page
        return self._get_page(  # type: ignore[attr-defined]
            self._all_ids[start : start + self.per_page], number, self
        )

    def _read_all_if_few_match(self) -> None:
        limit = min(self.cap, FEW_MATCHES)
        queryset = self.queryset
        matching = queryset.order_by().values("pk")[: limit + 1]
        ids = list(
            queryset.model._default_manager.filter(pk__in=matching)
            .order_by(*(queryset.query.order_by or queryset.model._meta.ordering))
            .values_list("pk", flat=True)
        )
        if len(ids) <= limit:
            self._all_ids = ids
