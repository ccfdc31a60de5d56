"""Text cells to typed values, column by column, with a check for every cell that will not go.

Each field becomes two columns of one frame: ``raw:<key>`` (the text as written, for reports
and for "is it given at all") and ``<key>`` (the typed value: str, date or int; null when
blank or not understood). Codes are looked up once per distinct spelling, with the theme's own
``match_key``, so "a) Male", "Male", "M" and "male" all store "M".
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

import polars as pl

from app.child_lists.parsing.checks import Check, raw
from app.child_lists.parsing.headings import Column
from app.child_lists.parsing.tables import ROW, RawTable, column_name
from app.child_lists.parsing.types import Limits
from app.themes.schema.base import match_key
from app.themes.schema.lists import Code, FieldSpec, ListSpec
from app.themes.schema.theme import Theme

# People type codes with or without the workbook's letter, and letters move between editions.
_WORKBOOK_PREFIX = re.compile(r"^[a-z]{1,2}\)\s*")
_ISO_DATE = (
    r"^(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})"
    r"(?:[T ]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?$"
)
_DAY_FIRST_DATE = r"^(?P<d>\d{1,2})[/.-](?P<m>\d{1,2})[/.-](?P<y>\d{4}|\d{2})$"
_WHOLE_NUMBER = r"^([+-]?\d+)(?:\.0*)?$"
# Nothing in a child's records predates this; a year like 0019 is a typing slip.
_EARLIEST_YEAR = 1900
_EARLIEST_DATE = date(_EARLIEST_YEAR, 1, 1)
_CHOICES_SHOWN = 12


@dataclass(frozen=True)
class Normalised:
    frame: pl.DataFrame
    checks: list[Check]


def normalise(
    table: RawTable,
    columns: list[Column],
    spec: ListSpec,
    theme: Theme,
    today: date,
    limits: Limits,
    names: Mapping[str, str],
) -> Normalised:
    positions = {c.field: c.position for c in columns}
    frame = table.frame.select(
        pl.col(ROW),
        *(
            (pl.col(column_name(positions[f.key])) if f.key in positions else pl.lit(None))
            .cast(pl.String)
            .alias(raw(f.key))
            for f in spec.fields
        ),
    )
    lookups = _code_lookups(frame, spec, theme)
    typed: list[pl.Expr] = []
    checks: list[Check] = []
    for spec_field in spec.fields:
        field = _FieldColumn(spec_field, names[spec_field.key], limits, today)
        typed.append(field.typed(theme, lookups).alias(spec_field.key))
        checks.extend(field.cell_checks(theme, present=spec_field.key in positions))
    frame = _finish_dates(frame.with_columns(typed), spec, limits, today)
    return Normalised(frame, checks)


def _code_lookups(frame: pl.DataFrame, spec: ListSpec, theme: Theme) -> dict[str, dict[str, str]]:
    """For each code or yes/no field: the code each distinct spelling in the file stands for."""
    coded = [f for f in spec.fields if theme.codes_for(f)]
    if not coded or frame.height == 0:
        return {f.key: {} for f in coded}
    spellings = frame.select(pl.col(raw(f.key)).unique().drop_nulls().implode() for f in coded)
    return {
        f.key: _lookup(values, theme.codes_for(f))
        for f, values in zip(coded, spellings.row(0), strict=True)
    }


def _lookup(spellings: list[str], codes: tuple[Code, ...]) -> dict[str, str]:
    table = {key: code.code for code in codes for key in code.match_keys()}
    found: dict[str, str] = {}
    for spelling in spellings:
        key = match_key(spelling)
        code = table.get(key) or table.get(_WORKBOOK_PREFIX.sub("", key))
        if code is not None:
            found[spelling] = code
    return found


@dataclass(frozen=True)
class _FieldColumn:
    spec: FieldSpec
    name: str
    limits: Limits
    today: date

    @property
    def raw(self) -> pl.Expr:
        return pl.col(raw(self.spec.key))

    @property
    def fits(self) -> pl.Expr:
        """The text of cells short enough to be read at all."""
        return pl.when(self.raw.str.len_chars() <= self.limits.max_cell_chars).then(self.raw)

    def typed(self, theme: Theme, lookups: Mapping[str, Mapping[str, str]]) -> pl.Expr:
        kind = self.spec.type
        if kind == "date":
            return _common_dates(self.fits)
        if kind == "integer":
            return self.fits.str.extract(_WHOLE_NUMBER, 1).cast(pl.Int64, strict=False)
        if theme.codes_for(self.spec):
            lookup = lookups.get(self.spec.key, {})
            return self.fits.replace_strict(
                list(lookup), list(lookup.values()), default=None, return_dtype=pl.String
            )
        return self.fits

    def cell_checks(self, theme: Theme, present: bool) -> list[Check]:
        typed = pl.col(self.spec.key)
        checks = [
            self._check(
                self.raw.str.len_chars() > self.limits.max_cell_chars,
                "cell_too_long",
                f"'{self.name}' has more than {self.limits.max_cell_chars:,} characters, the "
                "most a spreadsheet cell holds.",
            ),
        ]
        invalid = self._invalid(theme)
        if invalid is not None:
            checks.append(self._check(self.fits.is_not_null() & typed.is_null(), *invalid))
        if self.spec.required and present:
            checks.append(
                self._check(
                    self.raw.is_null(), "required", f"'{self.name}' is required on every row."
                )
            )
        return checks + self._bounds(typed)

    def _check(self, mask: pl.Expr, code: str, message: str) -> Check:
        return Check(mask, self.spec.key, code, "error", message, self.raw)

    def _invalid(self, theme: Theme) -> tuple[str, str] | None:
        spec, name = self.spec, self.name
        if spec.type == "date":
            return "invalid_date", (
                f"'{name}' should be a date written dd/mm/yyyy (for example 01/08/2019) or "
                "yyyy-mm-dd."
            )
        if spec.type == "integer":
            return "invalid_integer", f"'{name}' should be a whole number."
        if spec.type == "yes_no":
            unknown = ", or U (unknown)" if spec.allow_unknown else ""
            return "invalid_yes_no", f"'{name}' should be Y or N (Yes or No also do){unknown}."
        if spec.type == "code":
            return "invalid_code", f"'{name}' should be one of: {_choices(theme.codes_for(spec))}."
        return None  # any text is text

    def _bounds(self, typed: pl.Expr) -> list[Check]:
        spec, name, checks = self.spec, self.name, []
        if spec.minimum is not None:
            checks.append(
                self._check(
                    typed < spec.minimum,
                    "below_minimum",
                    f"'{name}' should be at least {spec.minimum}.",
                )
            )
        if spec.maximum is not None:
            checks.append(
                self._check(
                    typed > spec.maximum,
                    "above_maximum",
                    f"'{name}' should be at most {spec.maximum}.",
                )
            )
        if spec.max_length is not None:
            checks.append(
                self._check(
                    typed.str.len_chars() > spec.max_length,
                    "too_long",
                    f"'{name}' should be at most {spec.max_length} characters.",
                )
            )
        if spec.pattern is not None:
            expected = spec.description or f"text matching {spec.pattern}"
            checks.append(
                self._check(
                    ~_matches(typed, spec.pattern),
                    "pattern_mismatch",
                    f"'{name}' is not in the expected form: {expected}",
                )
            )
        return checks


def _choices(codes: tuple[Code, ...]) -> str:
    shown = "; ".join(code.workbook for code in codes[:_CHOICES_SHOWN])
    more = len(codes) - _CHOICES_SHOWN
    return f"{shown} (or {more} more; see the template)" if more > 0 else shown


def _common_dates(text: pl.Expr) -> pl.Expr:
    """dd/mm/yyyy (or d/m/yyyy), the form nearly every file uses, parsed by polars' fast path;
    the slash where it must be keeps "01/08/19" out of year 19. One pass over the column:
    whatever else is written (ISO dates, two-digit years) is parsed by ``_finish_dates`` on
    those cells only."""
    day_first = pl.when(text.str.slice(-5, 1) == "/").then(
        text.str.strptime(pl.Date, "%d/%m/%Y", strict=False)
    )
    return _recent(day_first)


def _recent(parsed: pl.Expr) -> pl.Expr:
    # A comparison of dates, not of their years: extracting the year cost as much as parsing.
    return pl.when(parsed >= _EARLIEST_DATE).then(parsed)


def _iso_dates(text: pl.Expr, today: date) -> pl.Expr:
    """yyyy-mm-dd by the fast path (what JSON and most systems send)."""
    iso = pl.when(text.str.slice(4, 1) == "-").then(
        text.str.strptime(pl.Date, "%Y-%m-%d", strict=False)
    )
    return _recent(iso)


def _finish_dates(frame: pl.DataFrame, spec: ListSpec, limits: Limits, today: date) -> pl.DataFrame:
    """Parse what the day-first pass left: ISO dates by the fast path, then the rest (two-digit
    years, dots or dashes, times after ISO dates) with the slower regular expressions, each on
    the cells still unparsed only."""
    for spec_field in spec.fields:
        if spec_field.type != "date":
            continue
        text = pl.col(raw(spec_field.key))
        fits = pl.when(text.str.len_chars() <= limits.max_cell_chars).then(text)
        for parse in (_iso_dates, _parse_date):
            left = frame.select(pl.arg_where(fits.is_not_null() & pl.col(spec_field.key).is_null()))
            if not left.height:
                break
            rows = left.to_series()
            parsed = frame[rows].select(parse(fits, today)).to_series()
            frame = frame.with_columns(frame[spec_field.key].scatter(rows, parsed))
    return frame


def _parse_date(text: pl.Expr, today: date) -> pl.Expr:
    iso = text.str.extract_groups(_ISO_DATE)
    day_first = text.str.extract_groups(_DAY_FIRST_DATE)
    short_year = day_first.struct.field("y").str.len_chars() == 2
    year = day_first.struct.field("y").cast(pl.Int32)
    # Two-digit years: up to next year's are this century, the rest the last one.
    pivot = today.year % 100 + 1
    year = (
        pl.when(short_year & (year <= pivot))
        .then(year + 2000)
        .when(short_year)
        .then(year + 1900)
        .otherwise(year)
    )
    parts = [
        pl.coalesce(iso.struct.field("y").cast(pl.Int32), year),
        pl.coalesce(iso.struct.field("m"), day_first.struct.field("m")),
        pl.coalesce(iso.struct.field("d"), day_first.struct.field("d")),
    ]
    parsed = pl.concat_str(parts, separator="-").str.strptime(pl.Date, "%Y-%m-%d", strict=False)
    return pl.when(parts[0] >= _EARLIEST_YEAR).then(parsed)


def _matches(text: pl.Expr, pattern: str) -> pl.Expr:
    anchored = f"^(?:{pattern})$"
    try:
        pl.select(pl.lit("").str.contains(anchored))
    except pl.exceptions.PolarsError:
        # Look-arounds and back-references are Python-only; such a pattern costs a call a cell.
        compiled = re.compile(pattern)
        return text.map_elements(
            lambda value: compiled.fullmatch(value) is not None, return_dtype=pl.Boolean
        )
    return text.str.contains(anchored)
