"""Schedule expressions (spec/cron.py): what AWS's cron syntax accepts and when it fires."""

from __future__ import annotations

from datetime import datetime

import pytest

from wcpipe.spec.cron import parse_cron
from wcpipe.spec.model import parse_spec

MINIMAL = "name: fifa\ntable: {name: attendance, columns: [{name: year, type: smallint}]}\n"


@pytest.mark.parametrize(
    "text",
    [
        "cron(0 10 * * ? *)",  # the EventBridge guide's examples
        "cron(15 12 * * ? *)",
        "cron(0 18 ? * MON-FRI *)",
        "cron(0 8 1 * ? *)",
        "cron(0/15 * * * ? *)",
        "cron(0/10 * ? * MON-FRI *)",
        "cron(0/5 8-17 ? * MON-FRI *)",
        "cron(0 9 ? * 2#1 *)",
        "cron(0 0 L * ? *)",
        "cron(0 0 3W * ? *)",
        "cron(0 0 ? * 6L 2026-2030)",
    ],
)
def test_aws_examples_parse(text: str) -> None:
    assert parse_cron(text).text == text


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("rate(5 minutes)", "not a cron(...) expression"),
        ("cron(0 10 * * ?)", "six fields"),
        ("cron(0 10 * * ? * *)", "six fields"),
        ("cron(0 10 ? * ? *)", "must be '?'"),
        ("cron(0 24 * * ? *)", "Hours: 24 is outside 0-23"),
        ("cron(0 0 0 * ? *)", "Day-of-month: 0 is outside 1-31"),
        ("cron(0 0 ? * 8 *)", "Day-of-week: 8 is outside 1-7"),
        ("cron(0 0 * * ? 1969)", "Year: 1969 is outside"),
        ("cron(0 0 ? * 3#1,6#3 *)", "must be the only one"),
        ("cron(0 0 ? * 3#6 *)", "instance 1-5"),
        ("cron(5-1 0 * * ? *)", "runs backwards"),
        ("cron(0/0 0 * * ? *)", "bad increment"),
    ],
)
def test_bad_expressions_say_what_is_wrong(text: str, fragment: str) -> None:
    with pytest.raises(ValueError, match=None) as info:
        parse_cron(text)
    assert fragment in str(info.value)


def test_matches_the_minutes_it_names() -> None:
    every_quarter = parse_cron("cron(0/15 8-17 ? * MON-FRI *)")
    thursday = datetime(2026, 12, 3, 8, 15)  # a Thursday
    assert every_quarter.matches(thursday)
    assert not every_quarter.matches(thursday.replace(minute=16))
    assert not every_quarter.matches(thursday.replace(hour=18, minute=0))
    assert not every_quarter.matches(datetime(2026, 12, 5, 8, 15))  # Saturday


def test_special_days() -> None:
    assert parse_cron("cron(0 0 L * ? *)").matches(datetime(2026, 2, 28))
    assert not parse_cron("cron(0 0 L * ? *)").matches(datetime(2026, 2, 27))
    # 2026-08-01 is a Saturday: 1W is Monday the 3rd (it does not leave the month).
    assert parse_cron("cron(0 0 1W * ? *)").matches(datetime(2026, 8, 3))
    # The first Monday (2) of December 2026 is the 7th; the last Friday (6L) is the 25th.
    assert parse_cron("cron(0 0 ? * 2#1 *)").matches(datetime(2026, 12, 7))
    assert not parse_cron("cron(0 0 ? * 2#1 *)").matches(datetime(2026, 12, 14))
    assert parse_cron("cron(0 0 ? * 6L *)").matches(datetime(2026, 12, 25))
    assert not parse_cron("cron(0 0 ? * 6L *)").matches(datetime(2026, 12, 18))


@pytest.mark.parametrize(
    ("trigger", "on_arrival", "schedule"),
    [
        (None, False, None),
        ("manual", False, None),
        ("on-arrival", True, None),
        ("'cron(0 6 * * ? *)'", False, "cron(0 6 * * ? *)"),
    ],
)
def test_spec_trigger(trigger: str | None, on_arrival: bool, schedule: str | None) -> None:
    text = MINIMAL + (f"trigger: {trigger}\n" if trigger else "")
    spec = parse_spec(text)
    assert (spec.on_arrival, spec.schedule) == (on_arrival, schedule)
    assert spec.trigger == (schedule or ("on-arrival" if on_arrival else "manual"))
