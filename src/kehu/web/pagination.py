"""Pagination that stays fast on a register of millions of rows."""

from __future__ import annotations

from typing import Any

from django.core.paginator import InvalidPage, Page, Paginator
from django.db.models import Count, QuerySet, Window
from django.utils.functional import cached_property

# Up to this many matches, one query gives the page and the count together (see below).
FEW_MATCHES = 1_000


class CappedPaginator(Paginator):
    """Pages over an ordered queryset of ids, counting at most `cap` rows.

    Two cases, so that neither a search nor a plain list reads the table more than it must:

    - Few matches (a search that finds some hundreds of customers among a million): one query
      gives the page and the count, and the table is read once, not twice:

          SELECT id, COUNT(*) OVER () FROM t
          WHERE id IN (SELECT id FROM t WHERE <filter> LIMIT 1001)
          ORDER BY <sort> LIMIT 50 OFFSET …

    - Many matches: that query stops after 1,001 of them; the page is read with the plain
      ordered query (an index usually serves it) and counted with
      `SELECT COUNT(*) FROM (SELECT … LIMIT cap + 1)`, which stops after cap + 1 rows. Beyond
      the cap the page says "more than cap" (`is_capped`) and offers pages up to the cap:
      paging further into a million rows is not useful, and OFFSET that deep is slow.
    """

    def __init__(self, object_list: QuerySet[Any], per_page: int, cap: int) -> None:
        super().__init__(object_list, per_page)
        self.cap = cap
        self.is_capped = False
        self._rows: dict[int, list[Any]] = {}

    @cached_property
    def count(self) -> int:
        counted = self.object_list.order_by()[: self.cap + 1].count()
        self.is_capped = counted > self.cap
        return min(counted, self.cap)

    def get_page(self, number: Any) -> Page:
        try:
            wanted = max(1, int(number))
        except (TypeError, ValueError):
            wanted = 1
        offset = (wanted - 1) * self.per_page
        if offset < min(self.cap, FEW_MATCHES):
            self._read_page_if_few_match(wanted, offset)
        try:
            return self.page(wanted)
        except InvalidPage:
            return self.page(self.num_pages)

    def page(self, number: Any) -> Page:
        number = self.validate_number(number)
        if number in self._rows:
            return self._get_page(self._rows[number], number, self)  # type: ignore[attr-defined]
        return super().page(number)

    def _read_page_if_few_match(self, number: int, offset: int) -> None:
        limit = min(self.cap, FEW_MATCHES)
        queryset = self.object_list
        matching = queryset.order_by().values("pk")[: limit + 1]
        rows = list(
            queryset.model._default_manager.filter(pk__in=matching)
            .order_by(*(queryset.query.order_by or queryset.model._meta.ordering))
            .annotate(matching_count=Window(Count("pk")))
            .values_list("pk", "matching_count")[offset : offset + self.per_page]
        )
        if not rows:
            if offset == 0:  # nothing matches at all
                self.__dict__["count"] = 0
                self._rows[number] = []
            return  # beyond the last page: the plain count decides where that is
        total = rows[0][1]
        if total <= limit:
            self.__dict__["count"] = total
            self._rows[number] = [pk for pk, _total in rows]
