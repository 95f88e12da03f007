"""Unit tests of the querystring parser (pure: no app, no backend)."""

from __future__ import annotations

import pytest

from cliquetish.resource.querystring import (
    QueryError,
    parse_filter,
    parse_json_value,
    parse_limit,
    parse_listing,
    parse_sort,
    parse_timestamp,
)
from cliquetish.storage import COMPARISON, Filter, Sort

KNOWN = {"title", "rank", "author", "tags", "done", "not_done", "url"}


def known(name: str) -> bool:
    return name.split(".")[0] in KNOWN


def everything(name: str) -> bool:
    return True


DEFAULT_SORT = (Sort("last_modified", -1),)


def listing(query: list[tuple[str, str]], page_size: int = 100):
    return parse_listing(query, known, DEFAULT_SORT, page_size)


@pytest.mark.parametrize(("raw", "expected"), [
    ("5", 5), ("5.5", 5.5), ("true", True), ("false", False), ("null", None),
    ('"5"', "5"), ("abc", "abc"), ("[1,2]", [1, 2]), ('{"a": 1}', {"a": 1}),
    ("NaN", "NaN"), ("", ""), ("01", "01"),
])
def test_values_are_json_when_they_parse(raw, expected) -> None:
    assert parse_json_value(raw) == expected
    assert type(parse_json_value(raw)) is type(expected)


@pytest.mark.parametrize(("name", "operator", "field"), [
    ("title", COMPARISON.EQ, "title"),
    ("eq_title", COMPARISON.EQ, "title"),
    ("not_title", COMPARISON.NOT, "title"),
    ("min_rank", COMPARISON.MIN, "rank"),
    ("max_rank", COMPARISON.MAX, "rank"),
    ("lt_rank", COMPARISON.LT, "rank"),
    ("gt_rank", COMPARISON.GT, "rank"),
    ("like_title", COMPARISON.LIKE, "title"),
    ("author.name", COMPARISON.EQ, "author.name"),
    ("min_author.age", COMPARISON.MIN, "author.age"),
])
def test_prefixes_give_operators(name, operator, field) -> None:
    flt = parse_filter(name, "5", known)
    assert flt.operator is operator
    assert flt.field == field


def test_like_values_stay_strings() -> None:
    assert parse_filter("like_title", "5", known) == Filter("title", "5", COMPARISON.LIKE)


def test_list_operators_split_commas_and_type_items() -> None:
    assert parse_filter("in_rank", "1,2,abc", known).value == [1, 2, "abc"]
    assert parse_filter("exclude_title", "a,b", known).operator is COMPARISON.EXCLUDE
    assert parse_filter("contains_tags", "a,b", known) == Filter(
        "tags", ["a", "b"], COMPARISON.CONTAINS)
    assert parse_filter("contains_any_tags", '["a,b", "c"]', known) == Filter(
        "tags", ["a,b", "c"], COMPARISON.CONTAINS_ANY)


def test_has_takes_booleans_only() -> None:
    assert parse_filter("has_title", "true", known).value is True
    assert parse_filter("has_title", "0", known).value is False
    with pytest.raises(QueryError) as caught:
        parse_filter("has_title", "maybe", known)
    assert caught.value.name == "has_title"


def test_a_known_field_that_looks_prefixed_is_an_equality() -> None:
    only_not_done = {"not_done"}.__contains__
    assert parse_filter("not_done", "true", only_not_done) == Filter("not_done", True)
    assert parse_filter("not_done", "true", known).operator is COMPARISON.NOT
    assert parse_filter("not_done", "true", everything) == Filter("done", True, COMPARISON.NOT)


def test_builtin_fields_are_typed() -> None:
    assert parse_filter("id", "5", known) == Filter("id", "5")
    assert parse_filter("in_id", "a,5", known).value == ["a", "5"]
    assert parse_filter("min_last_modified", '"15"', known).value == 15
    with pytest.raises(QueryError) as caught:
        parse_filter("last_modified", "abc", known)
    assert caught.value.name == "last_modified"
    assert "timestamp" in caught.value.description


@pytest.mark.parametrize("name", ["unknown", "min_unknown", "title.", ".title", "a..b", "min_"])
def test_unknown_or_malformed_fields_are_refused(name) -> None:
    with pytest.raises(QueryError) as caught:
        parse_filter(name, "1", known)
    assert caught.value.name == name


@pytest.mark.parametrize(("raw", "expected"), [("123", 123), ('"123"', 123), (" 7 ", 7)])
def test_timestamps(raw, expected) -> None:
    assert parse_timestamp("_since", raw) == expected


@pytest.mark.parametrize("raw", ["-1", "abc", '"12', "1.5", "", '""', "１２", str(2**63)])
def test_bad_timestamps(raw) -> None:
    with pytest.raises(QueryError) as caught:
        parse_timestamp("_since", raw)
    assert caught.value.name == "_since"


def test_limit_is_capped() -> None:
    assert parse_limit("5", 10) == 5
    assert parse_limit("50", 10) == 10
    assert parse_limit("9" * 5000, 10) == 10
    assert parse_limit("007", 10) == 7
    for raw in ("0", "000", "-1", "abc", "1.5", "", "١٢"):
        with pytest.raises(QueryError):
            parse_limit(raw, 10)


def test_sort_adds_the_tie_breaker() -> None:
    assert parse_sort("-rank,title", known) == [
        Sort("rank", -1), Sort("title", 1), Sort("last_modified", -1)]
    assert parse_sort("last_modified", known) == [Sort("last_modified", 1)]
    assert parse_sort("+title", known)[0] == Sort("title", 1)


@pytest.mark.parametrize("raw", ["", "-", "rank,,title", "rank,rank", "nope",
                                 ",".join(f"f{n}" for n in range(21))])
def test_bad_sorts(raw) -> None:
    with pytest.raises(QueryError) as caught:
        parse_sort(raw, everything if raw.startswith("f0") else known)
    assert caught.value.name == "_sort"


def test_listing_collects_everything() -> None:
    query = listing([("_since", '"10"'), ("_before", "20"), ("title", "a"), ("_limit", "500"),
                     ("_fields", "title,author.name"), ("_sort", "-rank"), ("_token", "xyz")])
    assert query.include_deleted is True
    assert query.filters == (
        Filter("last_modified", 10, COMPARISON.GT),
        Filter("last_modified", 20, COMPARISON.LT),
        Filter("title", "a"),
    )
    assert query.limit == 100
    assert query.fields == ("title", "author.name")
    assert query.sorting == (Sort("rank", -1), Sort("last_modified", -1))
    assert query.token == "xyz"


def test_listing_defaults() -> None:
    query = listing([])
    assert query.sorting == (Sort("last_modified", -1),)
    assert query.limit == 100
    assert query.include_deleted is False
    assert query.fields is None
    assert query.token is None


def test_scope_ignores_limit_token_and_fields_but_not_filters() -> None:
    base = listing([("title", "a"), ("_sort", "rank")]).scope
    assert listing([("_sort", "rank"), ("title", "a"), ("_limit", "2"), ("_token", "x"),
                    ("_fields", "title")]).scope == base
    assert listing([("title", "b"), ("_sort", "rank")]).scope != base
    assert listing([("title", "a"), ("_sort", "-rank")]).scope != base
    assert listing([("title", "a"), ("_sort", "rank"), ("_since", "1")]).scope != base


@pytest.mark.parametrize("query", [
    [("_unknown", "1")], [("_limit", "1"), ("_limit", "2")], [("_since", "1"), ("_since", "1")],
])
def test_reserved_parameters(query) -> None:
    with pytest.raises(QueryError) as caught:
        listing(query)
    assert caught.value.name == query[0][0]
    assert str(caught.value).startswith(query[0][0] + " in querystring")


def test_repeated_filters_are_all_kept() -> None:
    query = listing([("min_rank", "1"), ("min_rank", "3")])
    assert [flt.value for flt in query.filters] == [1, 3]
