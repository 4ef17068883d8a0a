"""`Catalog(memory=True)` answers from an in-memory copy of the committed run exactly what LanceDB answers.

The copy (`catalog/query/snapshot.py`) is how `catalog serve` meets its load target; these tests hold it
to the store of record: the same results, errors and products, and browsing by words, id,
attribute filters and pages.
"""

from __future__ import annotations

import pytest

from catalog import Catalog, CatalogError, NotFound
from tests.query_fixture import EVIL_NAME, query_db  # noqa: F401  (a fixture)


@pytest.fixture(scope="module")
def both(query_db):  # noqa: F811
    return Catalog(query_db.path, memory=True), Catalog(query_db.path)


class Ranking(dict):
    """Per space, [(id, score)]. Equal when the ids are, in order, and each score is within 5e-4:
    float32 sums in another order may move the 4th decimal (rounding both to 3 decimals instead
    failed whenever a score sat at a rounding boundary, e.g. .97550 against .97549)."""

    def __eq__(self, other) -> bool:
        ids = {space: [i for i, _ in rows] for space, rows in self.items()}
        other_ids = {space: [i for i, _ in rows] for space, rows in other.items()}
        return ids == other_ids and all(
            abs(a - b) <= 5e-4 for space, rows in self.items() for (_, a), (_, b) in zip(rows, other[space])
        )

    __hash__ = None  # type: ignore[assignment]


def ranked(results) -> Ranking:
    return Ranking({space: [(r.id, r.score) for r in rows] for space, rows in results.results.items()})


def test_memory_answers_like_lancedb(both, query_db):  # noqa: F811
    memory, lance = both
    for product in query_db.ids[:8] + [query_db.no_photo_id]:
        for space in ("all", "graph"):
            assert ranked(memory.similar(product, k=5, space=space)) == ranked(lance.similar(product, k=5, space=space))
        assert memory.product(product).to_dict() == lance.product(product).to_dict()
    where = "gender = 'Men' AND masterCategory != 'Footwear'"
    item = query_db.ids[0]
    assert ranked(memory.similar(item, k=4, space="all", where=where)) == ranked(
        lance.similar(item, k=4, space="all", where=where)
    )
    args = {"ids": [item, query_db.ids[1]], "plus": {"black": 2.0}, "minus": ["topwear"], "where": where, "k": 5}
    for band in (True, False):  # arithmetic's band ordered by the item, and the query's own order
        a, b = memory.query(**args, band=band), lance.query(**args, band=band)
        assert (
            ranked(a) == ranked(b) and a.to_dict()["terms"] == b.to_dict()["terms"] and a.query.where == b.query.where
        )
    for ids in ([item], [item, query_db.ids[1]], [query_db.no_photo_id]):  # Rec: the classifiers order the pool
        assert ranked(memory.query(ids=ids, k=7)) == ranked(lance.query(ids=ids, k=7))
    plus = {"ids": [item], "plus": "black", "k": 8}
    assert memory.query(**plus).ids == lance.query(**plus).ids != lance.query(**plus, band=False).ids
    photoless = {"ids": [query_db.no_photo_id], "plus": "black", "k": 8}  # its band's ties go by id
    assert memory.query(**photoless).ids == lance.query(**photoless).ids


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda c: c.similar(999999999), NotFound, "no product with id 999999999"),
        (lambda c: c.product(999999999), NotFound, "no product with id 999999999"),
        (lambda c: c.similar(0, where="colour = 'Red'"), CatalogError, "unknown column 'colour'"),
        (lambda c: c.query(ids=[0], where="gender = 'Nobody'"), CatalogError, "no product matches"),
        (lambda c: c.query(ids=[0], plus="watches"), CatalogError, "ambiguous"),
    ],
)
def test_memory_fails_like_lancedb(both, query_db, call, error, message):  # noqa: F811
    for catalog in both:
        with pytest.raises(error, match=message):
            call(_with_real_id(catalog, query_db))


def _with_real_id(catalog, query_db):  # noqa: F811
    """`0` in the calls above stands for a product that exists."""

    class Proxy:
        def __getattr__(self, name):
            method = getattr(catalog, name)

            def call(*args, **kwargs):
                args = tuple(query_db.ids[0] if a == 0 else a for a in args)
                if kwargs.get("ids") == [0]:
                    kwargs["ids"] = [query_db.ids[0]]
                return method(*args, **kwargs)

            return call

    return Proxy()


def test_browse(both, query_db):  # noqa: F811
    memory, _ = both
    everything = memory.browse(per_page=1000)
    assert everything.total == memory.info().products and everything.ids == sorted(everything.ids)
    men = memory.browse(filters={"gender": "Men"}, per_page=1000)
    assert 0 < men.total < everything.total and {r["gender"] for r in men.rows} == {"Men"}
    assert memory.browse(filters={"colour": "Black"}).total == memory.browse(filters={"baseColour": "Black"}).total > 0
    page = memory.browse(filters={"gender": "Men"}, page=2, per_page=7)
    assert page.ids == men.ids[7:14] and page.pages == -(-men.total // 7)
    assert memory.browse(str(query_db.ids[3])).ids == [query_db.ids[3]]
    evil = memory.browse("<SCRIPT> tee")  # every word, case-insensitive, markup and all
    assert evil.ids == [query_db.evil_id] and evil.rows[0]["productDisplayName"] == EVIL_NAME
    assert memory.browse("no-such-word-anywhere").total == 0
    with pytest.raises(CatalogError, match="unknown attribute column 'size'"):
        memory.browse(filters={"size": "M"})
    lance = Catalog(query_db.path)  # without the copy in memory, through LanceDB: the same pages
    for text, filters, number in (
        ("", {"gender": "Men"}, 2),
        ("<SCRIPT> tee", {}, 1),
        (str(query_db.ids[3]), {}, 1),
        ("shirt", {"season": "Summer"}, 1),
        (str(query_db.ids[3]), {"gender": "Nobody"}, 1),
    ):
        assert lance.browse(text, filters, page=number, per_page=7) == memory.browse(
            text, filters, page=number, per_page=7
        )
