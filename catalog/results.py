"""The typed results of the library's calls; `to_dict()` is exactly what `--json` prints.

Each result is plain data: rendering (terminal tables, CSV, HTML) lives in `catalog/cli/render.py`,
`catalog/cli/html.py`. Lists convert to pandas (`to_pandas()`) and Arrow (`to_arrow()`) so a notebook
can go on from there.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from catalog.core.columns import ATTRIBUTE_COLUMNS, DISPLAY_COLUMNS, NAME_COLUMN

if TYPE_CHECKING:  # pandas and pyarrow are imported only when a conversion is asked for
    import numpy as np
    import pandas as pd
    import pyarrow as pa


@dataclass
class Attribute:
    """An attribute value of the graph space (`baseColour=Green`) and its vector."""

    key: str
    column: str
    value: str
    vector: np.ndarray


@dataclass
class Term:
    """One `--plus`/`--minus` word of a query, resolved."""

    attribute: Attribute
    weight: float  # positive adds, negative subtracts


@dataclass(frozen=True)
class Result:
    """One ranked product."""

    id: int
    score: float
    row: dict  # the display columns of the product


@dataclass
class Query:
    """What a result list answers, for rendering: the items or photo, and the arithmetic applied."""

    items: list[dict] = field(default_factory=list)  # the catalog products queried (display rows)
    image: str | None = None  # the photo queried, if any
    terms: list[Term] = field(default_factory=list)
    where: str | None = None

    def label(self) -> str:
        """`product 19549 +baseColour=Green×2 −subCategory=Topwear`, for headings."""
        if self.image is not None:
            subject = f"photo {self.image}"
        else:
            subject = ("products " if len(self.items) > 1 else "product ") + " + ".join(
                str(i["id"]) for i in self.items
            )
        arithmetic = [
            f"{'+' if t.weight > 0 else '−'}{t.attribute.key}" + (f"×{abs(t.weight):g}" if abs(t.weight) != 1 else "")
            for t in self.terms
        ]
        return " ".join([subject, *arithmetic])

    def target(self) -> dict[str, set[str]]:
        """Per column, the values a result "matches": the items' own, plus added, minus subtracted ones."""
        target: dict[str, set[str]] = {column: set() for column in ATTRIBUTE_COLUMNS}
        for item in self.items:
            for column in ATTRIBUTE_COLUMNS:
                if item.get(column):
                    target[column].add(item[column])
        for term in self.terms:
            values = target.setdefault(term.attribute.column, set())
            if term.weight > 0:
                values.add(term.attribute.value)
            else:
                values.discard(term.attribute.value)
        return target


def _frame(records: list[dict[str, Any]], columns: list[str]) -> pd.DataFrame:
    import pandas as pd

    return pd.DataFrame.from_records(records, columns=columns)


class _Tabular:
    """Results that are a list of rows: `to_pandas()`, and `to_arrow()` from it."""

    def to_pandas(self) -> pd.DataFrame:
        raise NotImplementedError

    def to_arrow(self) -> pa.Table:
        import pyarrow as pa

        return pa.Table.from_pandas(self.to_pandas(), preserve_index=False)


def result_dict(result: Result) -> dict[str, Any]:
    """One result row of `--json`: id, score, then the catalog columns."""
    return {"id": result.id, "score": result.score, **{c: result.row[c] for c in DISPLAY_COLUMNS if c != "id"}}


@dataclass
class SearchResults(_Tabular):
    """What `similar` and `query` return: the query and, per space, its ranked results.

    >>> results = catalog.similar(1163, k=3)          # doctest: +SKIP
    >>> [r.id for r in results["rec"]]                # doctest: +SKIP
    """

    query: Query
    results: dict[str, list[Result]]
    heading: str = ""
    keyed: bool = False  # --json keys results by space even if only one is left (`similar --space all`)
    left_out: list[str] = field(default_factory=list)  # spaces asked for that the product has no vector in

    @property
    def spaces(self) -> list[str]:
        return list(self.results)

    def __getitem__(self, space: str) -> list[Result]:
        return self.results[space]

    def __iter__(self):
        """The results of the first (for `query` and single-space `similar`: the only) space."""
        return iter(next(iter(self.results.values()), []))

    def __len__(self) -> int:
        return len(next(iter(self.results.values()), []))

    @property
    def ids(self) -> list[int]:
        return [r.id for r in self]

    def to_dict(self) -> dict[str, Any]:
        """--json shape: `query` (the product; a list for several; null for a photo), `results`
        (one space: a list; several: an object keyed by space), `image`, `terms`, `where`."""
        items = self.query.items
        document: dict[str, Any] = {
            "query": items[0] if len(items) == 1 else (items or None),
            "image": self.query.image,
            "terms": [{"attribute": t.attribute.key, "weight": t.weight} for t in self.query.terms],
            "where": self.query.where,
        }
        lists = {space: [result_dict(r) for r in rows] for space, rows in self.results.items()}
        document["results"] = next(iter(lists.values())) if len(lists) == 1 and not self.keyed else lists
        return document

    def to_records(self) -> list[dict[str, Any]]:
        """One dict per result: space, rank, id, score and the catalog columns."""
        return [
            {"space": space, "rank": rank, **result_dict(r)}
            for space, rows in self.results.items()
            for rank, r in enumerate(rows, 1)
        ]

    def to_pandas(self) -> pd.DataFrame:
        return _frame(self.to_records(), ["space", "rank", "id", "score", *ATTRIBUTE_COLUMNS, NAME_COLUMN])


@dataclass
class Inference(_Tabular):
    """What `infer` returns: per attribute column, the likeliest values with their cosine, best first."""

    query: Query
    attributes: dict[str, list[tuple[str, float]]]
    heading: str = ""

    def best(self, column: str) -> str | None:
        values = self.attributes.get(column) or []
        return values[0][0] if values else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "query": self.query.items[0] if self.query.items else None,
            "image": self.query.image,
            "attributes": {c: [{"value": v, "score": s} for v, s in values] for c, values in self.attributes.items()},
        }

    def to_records(self) -> list[dict[str, Any]]:
        item = self.query.items[0] if self.query.items else {}
        return [
            {"column": column, "rank": rank, "value": value, "score": score, "catalog_value": item.get(column)}
            for column, values in self.attributes.items()
            for rank, (value, score) in enumerate(values, 1)
        ]

    def to_pandas(self) -> pd.DataFrame:
        return _frame(self.to_records(), ["column", "rank", "value", "score", "catalog_value"])


@dataclass
class Product:
    """One product as `show` prints it: its catalog values and where its vectors came from."""

    id: int
    values: dict[str, str | None]  # the attribute columns and productDisplayName
    has_image: bool
    image_path: str | None  # absolute path of the photo it was ingested from ("" without one)
    node_source: str  # "walks" (trained by node2vec) or "inferred" (placed incrementally)
    run: int  # the run that last wrote the row
    encoder_id: str | None
    shared_with: dict[str, int] = field(default_factory=dict)  # column -> products sharing its value

    @property
    def name(self) -> str | None:
        return self.values.get(NAME_COLUMN)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            **self.values,
            "has_image": self.has_image,
            "image_path": self.image_path,
            "node_source": self.node_source,
            "run": self.run,
            "encoder_id": self.encoder_id,
            "shared_with": dict(self.shared_with),
        }


@dataclass(frozen=True)
class AttributeCount:
    column: str
    value: str
    products: int

    def to_dict(self) -> dict[str, Any]:
        return {"column": self.column, "value": self.value, "products": self.products}


class AttributeCounts(_Tabular, list[AttributeCount]):
    """What `attributes` returns: values with product counts, by column, most common first."""

    def to_dict(self) -> list[dict[str, Any]]:
        return [a.to_dict() for a in self]

    def to_pandas(self) -> pd.DataFrame:
        return _frame(self.to_dict(), ["column", "value", "products"])


@dataclass
class CatalogInfo:
    """What `info` returns: counts, models, parameters, metrics, versions and disk use."""

    database: str
    run: dict[str, Any]  # run, kind, created_at (ISO 8601, UTC), runs
    products: int
    with_image: int
    attribute_values: int
    node_source: dict[str, int]
    encoder: dict[str, Any]
    node2vec: dict[str, Any]
    linker: dict[str, Any]
    metrics: dict[str, Any]
    summary: dict[str, Any]
    versions: dict[str, Any]
    disk_bytes: int
    # The ranking settings (catalog/core/ranking.py, RankingSettings): last, an addition to the document.
    ranking: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__dataclass_fields__}


class History(_Tabular, list):
    """What `history` returns: the runs (`catalog.store.database.Run`), oldest first."""

    def to_dict(self) -> list[dict[str, Any]]:
        return [run.to_dict() for run in self]

    def to_pandas(self) -> pd.DataFrame:
        import pandas as pd

        rows = [{k: v for k, v in run.to_dict().items() if k != "summary"} | run.summary for run in self]
        return pd.DataFrame.from_records(rows)


@dataclass
class PhotoResults:
    """What `photo` returns: a photo's Rec and image-space results and its likely attribute values."""

    query: Query
    results: dict[str, list[Result]]  # "image" and "rec"
    inferred: dict[str, list[tuple[str, float]]]

    def target(self) -> dict[str, set[str]]:
        """The values to highlight in the results: the likeliest value of each column."""
        return {column: {values[0][0]} for column, values in self.inferred.items() if values}

    def to_dict(self) -> dict[str, Any]:
        return {
            "image": self.query.image,
            "results": {space: [result_dict(r) for r in rows] for space, rows in self.results.items()},
            "attributes": {c: [{"value": v, "score": s} for v, s in values] for c, values in self.inferred.items()},
        }


@dataclass(frozen=True)
class ProductPage(_Tabular):
    """What `browse` returns: one page of matching products (display rows) and how many match."""

    rows: list[dict[str, Any]]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def ids(self) -> list[int]:
        return [row["id"] for row in self.rows]

    def to_dict(self) -> dict[str, Any]:
        return {
            "total": self.total,
            "page": self.page,
            "per_page": self.per_page,
            "pages": self.pages,
            "products": self.rows,
        }

    def to_pandas(self) -> pd.DataFrame:
        return _frame(self.rows, list(DISPLAY_COLUMNS))
