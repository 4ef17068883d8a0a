"""Read a `styles.csv` the way real users have it: every data line either lands as a row or
comes back as a `Reject` with its line number and a reason.

What "real" means here (see docs/design.md, "Real data"): the Kaggle file has ~20 product names with
unquoted commas, empty cells, the literal usage value `NA`, and years written as `2011.0`; users'
own exports add BOMs, cp1252 bytes, CRLF or CR line endings, `;`/tab/`|` delimiters, duplicate
ids, short rows and stray quotes. The csv module does the quoting; this module decides what each
record means:

- header names match ignoring case, spaces, `_`, `-`, quotes and BOMs, plus `HEADER_ALIASES`;
  id and the 8 ATTRIBUTE_COLUMNS are required, the name is optional, other columns are ignored;
- surplus fields (unquoted delimiters in a name) rejoin the name when only the name can own
  them; missing trailing optional fields are empty; any other field count is a Reject;
- values are stripped, control characters removed, MISSING_MARKERS become "", `2011.0` years
  become `2011`; ids are non-negative whole numbers and the last row of a repeated id wins;
- a quote left open is detected when it swallows lines that start like rows (read with and
  without their own quotes), so those lines are read again on their own and land or are
  rejected with their own line number.
"""

from __future__ import annotations

import codecs
import csv
import re
from array import array
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np
import pandas as pd

from catalog.core.columns import ATTRIBUTE_COLUMNS, NAME_COLUMN
from catalog.core.errors import CatalogError

ID_COLUMN = "id"
# Longer cells are a broken export (a swallowed quote, a pasted blob), not a product attribute.
MAX_ATTRIBUTE_CHARS = 1000
MAX_NAME_CHARS = 2000
# Spreadsheet and pandas spellings of "no value"; the real data has usage `NA`.
MISSING_MARKERS = frozenset({"na", "n/a", "nan", "null", "none", "-"})
# Header spellings accepted besides the canonical names (compared after `_header_key`).
# Kept short on purpose: each alias is a guess about what a column means.
HEADER_ALIASES = {
    "basecolor": "baseColour",
    "displayname": NAME_COLUMN,
    "productname": NAME_COLUMN,
    "name": NAME_COLUMN,
}
# Delimiters tried, in this order, when the header line has no comma.
OTHER_DELIMITERS = (";", "\t", "|")

_WHOLE_NUMBER = re.compile(r"(\d+)(?:\.0*)?")
_YEAR_WITH_ZERO_FRACTION = re.compile(r"(\d+)\.0+")
# Line breaks and tabs inside a value become one space (a quoted newline in a name must not glue
# two words together); every other control character, and stray BOMs, are dropped.
_WHITESPACE_CONTROLS = re.compile(r"[\t\n\r\v\f]+")
_OTHER_CONTROLS = re.compile(r"[\x00-\x08\x0e-\x1f\x7f-\x9f\ufeff]")
_INT64_MAX = 2**63 - 1
# One physical line with its ending (\r\n, \r or \n, as csv's newline="" reading splits them), or the last one without.
_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+")


@dataclass(frozen=True)
class Reject:
    """A data line that did not become a row."""

    line: int | None  # 1-based physical line in the file (header = line 1); None if unknown
    id: str | None  # the raw id text when it could be read
    reason: str


@dataclass
class StylesTable:
    """The rows that landed (file order), the lines that did not, and the detected encoding."""

    rows: pd.DataFrame  # id (int64), the 8 ATTRIBUTE_COLUMNS and NAME_COLUMN (str, "" if missing)
    rejects: list[Reject]
    encoding: str


def read_styles(path: str | Path) -> StylesTable:
    """Read a styles.csv; raise CatalogError only when the file as a whole is unusable."""
    path = Path(path)
    text, encoding = _decode(_read_bytes(path), path)
    first_line = re.search(r"[^\r\n]*\S[^\r\n]*", text)
    if first_line is None:
        raise CatalogError(f"{path} is empty")
    delimiter = _sniff_delimiter(first_line.group())
    del first_line  # a match holds on to the text

    records = _records(text, delimiter)
    for header_line, header_fields, _ in records:
        if header_fields is None:
            raise CatalogError(f"{path}: the header (line {header_line}) is not readable CSV")
        if not _is_blank(header_fields):
            break
    else:
        raise CatalogError(f"{path} has no header line, only empty cells")
    header = _Header.parse(header_fields, path, delimiter, header_line)

    rows = _Rows()
    rejects: list[Reject] = []
    for start, fields, lines in records:
        for line, outcome in header.outcomes(start, fields, lines):
            if isinstance(outcome, Reject):
                rejects.append(Reject(line, outcome.id, outcome.reason))
            else:
                rows.add(line, *outcome)
    if not len(rows) and not rejects:
        raise CatalogError(f"{path} has a header (line {header_line}) but no data rows")
    del text, records  # the file's text (its size again) is not needed for the frame

    frame = rows.frame(rejects)
    rejects.sort(key=lambda r: r.line or 0)
    if frame.empty:
        raise CatalogError(
            f"{path}: none of its {len(rejects)} data rows is usable (line {rejects[0].line}: {rejects[0].reason})"
        )
    return StylesTable(rows=frame, rejects=rejects, encoding=encoding)


def _read_bytes(path: Path) -> bytes:
    if path.is_dir():
        raise CatalogError(f"{path} is a directory, not a styles.csv file")
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise CatalogError(f"{path} does not exist") from None
    except OSError as error:
        raise CatalogError(f"cannot read {path}: {error.strerror or error}") from None
    except ValueError as error:  # e.g. a NUL character in the path
        raise CatalogError(f"cannot read {path!r}: {error}") from None


def _decode(data: bytes, path: Path) -> tuple[str, str]:
    """Decode by BOM, else UTF-8, else line by line with cp1252 (then latin-1) for the lines
    that are not UTF-8, so one pasted cp1252 row does not turn the rest of a UTF-8 file into
    mojibake."""
    if data.startswith(codecs.BOM_UTF8):
        data, bom = data[len(codecs.BOM_UTF8) :], "-sig"
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return _decode_utf16(data, "utf-16", path), "utf-16"
    else:
        bom = ""
        # An ASCII header saved as UTF-16 without a BOM has a NUL in every other byte.
        head = data[:40]
        if len(head) >= 4 and not any(head[1::2]) and all(head[0::2]):
            return _decode_utf16(data, "utf-16-le", path), "utf-16-le"
        if len(head) >= 4 and not any(head[0::2]) and all(head[1::2]):
            return _decode_utf16(data, "utf-16-be", path), "utf-16-be"
    try:
        return data.decode("utf-8"), "utf-8" + bom
    except UnicodeDecodeError:
        pass
    used: list[str] = []
    # Splitting the bytes on line ends is safe: no UTF-8/cp1252 character contains \r or \n.
    parts = re.split(rb"(\r\n|\r|\n)", data)
    for index, part in enumerate(parts):
        for encoding in ("utf-8", "cp1252", "latin-1"):
            try:
                parts[index] = part.decode(encoding)
            except UnicodeDecodeError:
                continue
            if encoding not in used and not part.isascii():
                used.append(encoding)
            break
    order = ("utf-8", "cp1252", "latin-1")
    return "".join(parts), "+".join(sorted(used, key=order.index))


def _decode_utf16(data: bytes, encoding: str, path: Path) -> str:
    try:
        return data.decode(encoding)
    except UnicodeDecodeError:
        name = encoding.upper()
        message = f"{path} looks like {name} but is not valid {name} (truncated?)"
        raise CatalogError(message) from None


def _sniff_delimiter(header_line: str) -> str:
    if "," in header_line:
        return ","
    counts = {d: header_line.count(d) for d in OTHER_DELIMITERS}
    best = max(OTHER_DELIMITERS, key=lambda d: counts[d])
    return best if counts[best] else ","


def _records(text: str, delimiter: str) -> Iterator[tuple[int, list[str] | None, list[str]]]:
    """(first physical line number, fields, the physical lines) per csv record; fields is None
    when a field is over the csv module's size limit (a quote left open on a big file)."""
    # Lines sliced from the text one at a time: io.StringIO would hold a second copy of the whole
    # text at 4 bytes a character (3.7 GB for a 10M-row file).
    tape = _LineTape(match.group() for match in _LINE.finditer(text))
    reader = csv.reader(tape, delimiter=delimiter)
    while True:
        start = tape.taken + 1
        try:
            fields: list[str] | None = next(reader)
        except StopIteration:
            return
        except csv.Error:
            fields = None
        yield start, fields, tape.drain()


def _split(line: str, delimiter: str, quoting: int = csv.QUOTE_MINIMAL) -> list[str] | None:
    """One physical line parsed on its own; None when a field is over the csv size limit."""
    try:
        return next(csv.reader([line], delimiter=delimiter, quoting=quoting), [])
    except csv.Error:
        return None


def _is_blank(fields: list[str]) -> bool:
    return not "".join(fields).strip()  # blank or all-empty lines are not rows


class _LineTape:
    """Hands lines to csv.reader and keeps the current record's lines, so they can be re-read."""

    def __init__(self, lines: Iterator[str]):
        self._lines = lines
        self._current: list[str] = []
        self.taken = 0

    def __iter__(self) -> _LineTape:
        return self

    def __next__(self) -> str:
        line = next(self._lines)
        self._current.append(line)
        self.taken += 1
        return line

    def drain(self) -> list[str]:
        lines, self._current = self._current, []
        return lines


def _header_key(name: str) -> str:
    return re.sub(r"[\s_\-\"'\ufeff]", "", name).lower()


_CANONICAL = {_header_key(c): c for c in (ID_COLUMN, *ATTRIBUTE_COLUMNS, NAME_COLUMN)}
_REQUIRED = (ID_COLUMN, *ATTRIBUTE_COLUMNS)
_TOO_LONG = f"a field is longer than {csv.field_size_limit()} characters"
_VALUE_LIMITS = tuple(
    (column, MAX_NAME_CHARS if column == NAME_COLUMN else MAX_ATTRIBUTE_CHARS)
    for column in (*ATTRIBUTE_COLUMNS, NAME_COLUMN)
)
_DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}


@dataclass(frozen=True)
class _Header:
    width: int
    delimiter: str
    positions: dict[str, int]  # canonical column -> field index
    name_absorbs_surplus: bool  # surplus fields from unquoted delimiters rejoin the name

    @classmethod
    def parse(cls, fields: list[str], path: Path, delimiter: str, line: int) -> _Header:
        keys = [_header_key(field) for field in fields]
        positions: dict[str, int] = {}
        for index, key in enumerate(keys):
            column = _CANONICAL.get(key)
            if column is not None and column in positions:
                raise CatalogError(
                    f"{path}: column {column!r} appears twice in the header (line {line}, "
                    f"columns {positions[column] + 1} and {index + 1})"
                )
            if column is not None:
                positions[column] = index
        for index, key in enumerate(keys):  # an alias only fills a column not named exactly
            column = HEADER_ALIASES.get(key)
            if column is not None and column not in positions:
                positions[column] = index
        missing = [column for column in _REQUIRED if column not in positions]
        if missing:
            found = _clean(", ".join(fields)) or "(none)"
            found = found if len(found) <= 200 else found[:200] + "..."
            separated = f"{_DELIMITER_NAMES[delimiter]}-separated"
            raise CatalogError(
                f"{path}: the header (line {line}) lacks {', '.join(missing)}; "
                f"found {len(fields)} {separated} columns: {found}"
            )
        name = positions.get(NAME_COLUMN)
        # Surplus fields can only be given back to the name when no other column could have
        # produced them: the name is the last column, or every other column is a known one.
        absorbs = name is not None and (name == len(fields) - 1 or len(positions) == len(fields))
        return cls(len(fields), delimiter, positions, absorbs)

    @cached_property
    def _required_width(self) -> int:
        return 1 + max(self.positions[column] for column in _REQUIRED)

    @cached_property
    def _value_slots(self) -> tuple[tuple[str, int | None, int], ...]:
        """(column, field index or None when absent, length limit) in output order."""
        return tuple((c, self.positions.get(c), limit) for c, limit in _VALUE_LIMITS)

    def outcomes(
        self, start: int, fields: list[str] | None, lines: list[str]
    ) -> list[tuple[int, tuple[int, str, list[str]] | Reject]]:
        """What one csv record means: usually one row or one Reject, at its first line.

        A record spanning several physical lines is a quoted line break, unless one of its
        continuation lines starts like a data row: then a quote was left open and swallowed the
        lines after it, so the opening line is rejected and the other lines are read again one
        by one; no row disappears inside another's name.
        """
        if fields is not None and _is_blank(fields):
            return []
        outcome = self.row(fields) if fields is not None else Reject(None, None, _TOO_LONG)
        alone = [_split(line, self.delimiter) for line in lines] if len(lines) > 1 else []
        if not any(map(self._starts_like_row, lines[1:], alone[1:])):
            return [(start, outcome)]
        last = start + len(lines) - 1
        unclosed = f"a quoted field opened here is not closed before line {last}"
        result = [(start, Reject(None, self.raw_id(alone[0] or []), unclosed))]
        for offset, line_fields in enumerate(alone[1:], start=1):
            if line_fields is None:
                result.append((start + offset, Reject(None, None, _TOO_LONG)))
            elif not _is_blank(line_fields):
                result.append((start + offset, self.row(line_fields)))
        return result

    def _starts_like_row(self, line: str, fields: list[str] | None) -> bool:
        """Whether a continuation line, read on its own (`fields`) or with its quotes taken as
        plain characters, looks like a data row. The second reading is needed because a quote
        in the line may be the one that closed the open quote: read alone, that quote opens a
        new field that runs to the end of the line and hides the columns after it, and the row
        would vanish inside the name of the row that left its quote open."""
        return self._looks_like_row(fields) or self._looks_like_row(_split(line, self.delimiter, csv.QUOTE_NONE))

    def _looks_like_row(self, fields: list[str] | None) -> bool:
        """A whole-number id in the id column and every required column present (the id may be
        the last column, so "more fields after the id" is not the test)."""
        index = self.positions[ID_COLUMN]
        return (
            fields is not None
            and len(fields) >= self._required_width
            and _WHOLE_NUMBER.fullmatch(fields[index].strip()) is not None
        )

    def raw_id(self, fields: list[str]) -> str | None:
        """The id text to show in a Reject (cleaned, shortened), None when there is none."""
        index = self.positions[ID_COLUMN]
        text = _clean(fields[index]) if index < len(fields) else ""
        return (text if len(text) <= 40 else text[:40] + "...") or None

    def row(self, fields: list[str]) -> tuple[int, str, list[str]] | Reject:
        """(id, raw id, values in ATTRIBUTE_COLUMNS + NAME_COLUMN order), or a Reject whose
        line the caller fills in."""
        raw_id = self.raw_id(fields)
        if "\x00" in "".join(fields):
            return Reject(None, raw_id, "line contains NUL bytes")
        fitted = self._fit(fields)
        if isinstance(fitted, str):
            return Reject(None, raw_id, fitted)
        if raw_id is None:
            return Reject(None, None, "id is empty")
        number = _WHOLE_NUMBER.fullmatch(_clean(fitted[self.positions[ID_COLUMN]]))
        if number is None or int(number.group(1)) > _INT64_MAX:
            return Reject(None, raw_id, f"id {raw_id!r} is not a whole number")
        values = []
        for column, index, limit in self._value_slots:
            value = _clean(fitted[index]) if index is not None else ""
            if len(value) <= 4 and value.lower() in MISSING_MARKERS:
                value = ""
            elif len(value) > limit:
                too_long = f"{column} is {len(value)} characters long (limit {limit})"
                return Reject(None, raw_id, too_long)
            if column == "year" and (year := _YEAR_WITH_ZERO_FRACTION.fullmatch(value)):
                value = year.group(1)
            values.append(value)
        return int(number.group(1)), raw_id, values

    def _fit(self, fields: list[str]) -> list[str] | str:
        """The fields stretched or shrunk to the header width, or the reason they cannot be."""
        surplus = len(fields) - self.width
        if surplus > 0 and self.name_absorbs_surplus:
            name = self.positions[NAME_COLUMN]
            joined = self.delimiter.join(fields[name : name + surplus + 1])
            return [*fields[:name], joined, *fields[name + surplus + 1 :]]
        if surplus < 0 and len(fields) >= self._required_width:
            return fields + [""] * -surplus  # only optional trailing columns are missing
        if surplus:
            return f"expected {self.width} fields, found {len(fields)}"
        return fields


def _clean(text: str) -> str:
    if text.isprintable():  # the common case; isprintable() is False for every control character
        return text.strip()
    return _OTHER_CONTROLS.sub("", _WHITESPACE_CONTROLS.sub(" ", text)).strip()


class _Rows:
    """The rows read so far, column by column: no object per row (at 10M rows a tuple and a list
    per row cost ~8 GB), and each attribute value held once however many rows carry it."""

    def __init__(self):
        self.ids = array("q")
        self.lines = array("q")
        self.values: list[list[str]] = [[] for _ in (*ATTRIBUTE_COLUMNS, NAME_COLUMN)]
        self.shared: list[dict[str, str]] = [{} for _ in ATTRIBUTE_COLUMNS]  # value -> its one copy
        self.raw_ids: dict[int, str] = {}  # row -> its id's text, where it is not str(id) (e.g. "0042")

    def __len__(self) -> int:
        return len(self.ids)

    def add(self, line: int, id: int, raw_id: str, values: list[str]) -> None:
        if raw_id != str(id):
            self.raw_ids[len(self.ids)] = raw_id
        self.ids.append(id)
        self.lines.append(line)
        for column, value in enumerate(values):
            if column < len(self.shared):
                shared = self.shared[column]
                # A column of mostly distinct values (a broken export) is not worth a lookup table.
                value = shared.setdefault(value, value) if len(shared) < SHARED_VALUES else value
            self.values[column].append(value)

    def frame(self, rejects: list[Reject]) -> pd.DataFrame:
        """The rows as a frame, keeping the last row of each id (a later row is usually the
        correction) and rejecting the others into `rejects`."""
        ids = np.frombuffer(self.ids, np.int64)
        lines = np.frombuffer(self.lines, np.int64)
        unique, last_in_reverse = np.unique(ids[::-1], return_index=True)
        last = len(ids) - 1 - last_in_reverse  # the row of each unique id that wins
        keep = np.zeros(len(ids), bool)
        keep[last] = True
        for row in np.flatnonzero(~keep).tolist():
            winner = last[np.searchsorted(unique, ids[row])]
            raw_id = self.raw_ids.get(row, str(int(ids[row])))
            rejects.append(Reject(int(lines[row]), raw_id, f"duplicate id, superseded by line {int(lines[winner])}"))
        data: dict[str, object] = {ID_COLUMN: ids[keep]}
        everything = bool(keep.all())
        for column, values in zip((*ATTRIBUTE_COLUMNS, NAME_COLUMN), self.values):
            data[column] = np.array(values, object) if everything else np.array(values, object)[keep]
            values.clear()  # each column's list goes as soon as its array is made
        return pd.DataFrame(data)


SHARED_VALUES = 100_000  # distinct values per attribute column held once (beyond: each row its own)
