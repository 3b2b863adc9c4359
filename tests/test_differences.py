"""`Difference.text`: what `plan` shows for one field, Terraform's `field: old -> new`, only the
parts that differ."""

from __future__ import annotations

import json

import pytest

from wcpipe.core.errors import BlockedChange
from wcpipe.provision.resources.base import Difference, Differences, blocked_error


def test_a_scalar_shows_old_and_new() -> None:
    assert Difference("NumberOfWorkers", 10, 2).text() == "NumberOfWorkers: 10 -> 2"
    assert Difference("retention", None, 14).text() == "retention: (none) -> 14"


def test_a_dict_shows_only_the_keys_that_differ() -> None:
    old = {"a": 1, "b": 2, "c": 3}
    new = {"a": 1, "b": 5, "d": 4}
    assert Difference("tags", old, new).text() == (
        "tags.b: 2 -> 5; tags.c: 3 -> (none); tags.d: (none) -> 4"
    )


def test_a_list_shows_what_is_added_and_removed() -> None:
    text = Difference("subnets", ["subnet-a", "subnet-b"], ["subnet-b", "subnet-c"]).text()
    assert text == "subnets: -subnet-a, +subnet-c"
    assert Difference("x", [1, 2], [2, 1]).text() == "x: reordered"


def test_a_json_document_in_a_string_is_compared_as_the_document() -> None:
    old = json.dumps({"columns": ["a", "b"], "mode": "append"})
    new = json.dumps({"columns": ["a", "b", "c"], "mode": "append"})
    assert Difference("--wcpipe_config", old, new).text() == "--wcpipe_config.columns: +c"


def test_long_values_are_cut_and_many_parts_counted() -> None:
    text = Difference("Description", "x" * 100, "y").text()
    assert text.startswith("Description: " + "x" * 59 + "… -> y")
    many = Difference("tags", {str(i): i for i in range(10)}, {}).text()
    assert many.endswith("… and 4 more") and many.count(";") == 6


def test_blocked_differences_say_each_field_and_the_reason() -> None:
    found = Differences(
        [
            Difference("column year", "smallint", "integer", "blocked", "migrate by hand"),
            Difference("column hosts", "varchar(64)", "varchar(128)"),
            Difference("column venue", "varchar(128)", "varchar(64)", "blocked", "migrate by hand"),
        ]
    )
    assert "column hosts" in found and "column nothing" not in found
    assert found["column hosts"].new == "varchar(128)"
    assert [d.field for d in found.blocked] == ["column year", "column venue"]
    with pytest.raises(BlockedChange) as caught:
        raise blocked_error("Redshift table", "public.attendance", found)
    assert str(caught.value) == (
        "cannot change in place: Redshift table public.attendance: column year: smallint -> "
        "integer; column venue: varchar(128) -> varchar(64) (migrate by hand)"
    )
