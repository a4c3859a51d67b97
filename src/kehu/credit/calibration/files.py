"""Reading a table of past customers (.csv in UTF-8 or GB18030, or .xlsx) for calibration.

The file goes through the importer's reader (imports/readers.py): the header is the first row
among the first ten that names the target column. A column whose every filled cell is a number
(thousands separators allowed) is numerical, any other categorical. Rows with an empty target
are left out and counted; a categorical column whose every value differs (an identifier) is
left out and said so.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import polars as pl
from django.utils.translation import gettext as _

from kehu.credit.calibration.scorecard import CalibrationRefused


@dataclass
class TrainingData:
    frame: pl.DataFrame  # the attribute columns
    is_bad: np.ndarray
    rows_without_target: int = 0
    identifiers: list[str] = field(default_factory=list)  # left out: every value differs


def _as_numbers(values: pl.Series) -> pl.Series | None:
    numbers = values.str.replace_all(",", "").cast(pl.Float64, strict=False)
    return numbers if numbers.null_count() == values.null_count() else None


def _unique_headers(headers: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    names = []
    for index, header in enumerate(headers):
        name = header or f"column_{index + 1}"
        seen[name] = seen.get(name, 0) + 1
        names.append(name if seen[name] == 1 else f"{name}_{seen[name]}")
    return names


def _outcome(values: pl.Series, *, target: str, bad: str) -> np.ndarray:
    is_bad = (values == bad).to_numpy()
    if not is_bad.any():
        numbers, wanted = _as_numbers(values), _as_numbers(pl.Series([bad]))
        if numbers is not None and wanted is not None:
            is_bad = (numbers == wanted[0]).to_numpy()
    if not is_bad.any():
        seen = ", ".join(repr(value) for value in values.unique(maintain_order=True).head(10))
        raise CalibrationRefused(
            _("The bad value %(bad)r never occurs in column %(target)r (it holds %(seen)s).")
            % {"bad": bad, "target": target, "seen": seen},
            detail={"field": "bad"},
        )
    return is_bad


def training_data_from_file(
    path: Path, *, target: str, bad: str, exclude: tuple[str, ...] = ()
) -> TrainingData:
    from kehu.imports.readers import FileRefused, read_table

    if not Path(path).is_file():
        raise CalibrationRefused(
            _("The file %(path)s does not exist.") % {"path": path}, detail={"field": "data"}
        )
    try:
        table = read_table(Path(path), is_header=lambda cells: target in cells)
    except FileRefused as error:
        raise CalibrationRefused(str(error), detail={"field": "data"}) from error
    names = _unique_headers(table.headers)
    if target not in names:
        raise CalibrationRefused(
            _("The target column %(target)r is not in the file; its columns are %(columns)s.")
            % {"target": target, "columns": ", ".join(repr(name) for name in names)},
            detail={"field": "target"},
        )
    unknown = [name for name in exclude if name not in names]
    if unknown:
        raise CalibrationRefused(
            _("--exclude names columns that are not in the file: %(columns)s.")
            % {"columns": ", ".join(repr(name) for name in unknown)},
            detail={"field": "exclude"},
        )
    frame = pl.DataFrame(
        {
            name: pl.Series(name, column, dtype=pl.String)
            for name, column in zip(names, table.columns, strict=True)
        }
    )
    with_target = frame.filter(pl.col(target).is_not_null())
    is_bad = _outcome(with_target.get_column(target), target=target, bad=bad)
    attributes, identifiers = {}, []
    for name in with_target.columns:
        if name == target or name in exclude:
            continue
        values = with_target.get_column(name)
        numbers = _as_numbers(values)
        if numbers is None and values.null_count() == 0 and values.n_unique() == values.len():
            identifiers.append(name)
            continue
        attributes[name] = (
            numbers if numbers is not None and values.null_count() < values.len() else values
        )
    return TrainingData(
        frame=pl.DataFrame(attributes) if attributes else pl.DataFrame(),
        is_bad=is_bad,
        rows_without_target=frame.height - with_target.height,
        identifiers=identifiers,
    )
