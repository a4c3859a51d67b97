"""Pagination that stays fast on a register of millions of rows."""

from __future__ import annotations

from typing import Any

from django.core.paginator import Page, Paginator
from django.utils.functional import cached_property


class CappedPaginator(Paginator):
    """Counts at most `cap` rows, so that counting never scans a whole table.

    `SELECT COUNT(*) FROM (SELECT … LIMIT cap + 1)` stops after cap + 1 matching rows; when there
    are more, the page says "more than cap" (`is_capped`) and offers pages up to the cap. Paging
    further into a million rows is not useful (and OFFSET would be slow): narrow the filter.

    The first page is read first (one row more than a page) and kept: when it is not full, its
    length is the count and no COUNT query runs at all. A search that finds a few rows in a large
    table is thus read once, not twice.
    """

    def __init__(self, object_list: Any, per_page: int, cap: int, **kwargs: Any) -> None:
        super().__init__(object_list, per_page, **kwargs)
        self.cap = cap
        self.is_capped = False
        self._first_rows: list[Any] | None = None

    @cached_property
    def count(self) -> int:
        counted = self.object_list.order_by()[: self.cap + 1].count()  # type: ignore[attr-defined]
        self.is_capped = counted > self.cap
        return min(counted, self.cap)

    def get_page(self, number: Any) -> Page:
        if str(number or "1") in {"1", ""} or not str(number).isdigit():
            rows = list(self.object_list[: self.per_page + 1])
            if len(rows) <= self.per_page:
                self.__dict__["count"] = len(rows)
            self._first_rows = rows[: self.per_page]
        return super().get_page(number)

    def page(self, number: Any) -> Page:
        number = self.validate_number(number)
        if number == 1 and self._first_rows is not None:
            return self._get_page(self._first_rows, number, self)  # type: ignore[attr-defined]
        return super().page(number)
