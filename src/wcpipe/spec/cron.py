"""Schedule expressions as EventBridge and Glue read them: `cron(Minutes Hours Day-of-month
Month Day-of-week Year)`, parsed before any AWS call, and matched against a moment (the
sandbox fires a scheduled crawler with `Cron.matches`).

The syntax, from the Amazon EventBridge User Guide, "Using cron and rate expressions to schedule
rules" (eb-scheduled-rule-pattern.html; AWS Glue's "Time-based schedules for jobs and crawlers"
points at the same syntax, and a crawler's Schedule takes it, API_Schedule.html): six required
fields separated by white space,

    Minutes 0-59 (, - * /)         Hours 0-23 (, - * /)
    Day-of-month 1-31 (, - * ? / L W)   Month 1-12 or JAN-DEC (, - * /)
    Day-of-week 1-7 or SUN-SAT (, - * ? L #; 1 is Sunday)   Year 1970-2199 (, - * /)

and "You can't specify the Day-of-month and Day-of-week fields in the same cron expression. If
you specify a value or a * in one of the fields, you must use a ? in the other." A `#` may be
the only item of its field ("3#1,6#3" is invalid).

Contract: `parse_cron(text)` returns a `Cron` or raises ValueError with one line saying what is
wrong; `Cron.matches(moment)` says whether the schedule fires in that (UTC) minute. Pure: no IO.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import datetime

MONTHS = {m.upper(): i for i, m in enumerate(calendar.month_abbr) if m}
DAYS = {d: i for i, d in enumerate(("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"), start=1)}
FIELDS = ("Minutes", "Hours", "Day-of-month", "Month", "Day-of-week", "Year")
RANGES = ((0, 59), (0, 23), (1, 31), (1, 12), (1, 7), (1970, 2199))
_CRON = re.compile(r"^cron\((?P<body>[^()]*)\)$")


def _value(text: str, index: int) -> int:
    names = MONTHS if index == 3 else DAYS if index == 4 else {}
    upper = text.upper()
    if upper in names:
        return names[upper]
    if not text.isdigit():
        raise ValueError(f"{FIELDS[index]}: {text!r} is not a number")
    low, high = RANGES[index]
    number = int(text)
    if not low <= number <= high:
        raise ValueError(f"{FIELDS[index]}: {number} is outside {low}-{high}")
    return number


def _plain(item: str, index: int) -> frozenset[int]:
    """One item of , - * / syntax as the set of values it names."""
    low, high = RANGES[index]
    base, _, step_text = item.partition("/")
    step = 1
    if step_text:
        if not step_text.isdigit() or int(step_text) < 1:
            raise ValueError(f"{FIELDS[index]}: bad increment in {item!r}")
        step = int(step_text)
    if base == "*":
        start, end = low, high
    elif "-" in base:
        first, _, last = base.partition("-")
        start, end = _value(first, index), _value(last, index)
        if start > end:
            raise ValueError(f"{FIELDS[index]}: range {base!r} runs backwards")
    else:
        start = _value(base, index)
        end = high if step_text else start
    return frozenset(range(start, end + 1, step))


@dataclass(frozen=True)
class Cron:
    """A parsed `cron(...)`: the value sets per field, and the special day rules."""

    text: str
    minutes: frozenset[int]
    hours: frozenset[int]
    months: frozenset[int]
    years: frozenset[int]
    days: tuple[str, ...] | None  # Day-of-month items, None when "?"
    weekdays: tuple[str, ...] | None  # Day-of-week items, None when "?"

    def matches(self, moment: datetime) -> bool:
        """Whether the schedule fires in the minute of `moment` (read as UTC)."""
        if moment.minute not in self.minutes or moment.hour not in self.hours:
            return False
        if moment.month not in self.months or moment.year not in self.years:
            return False
        if self.days is not None:
            return any(_day_matches(item, moment) for item in self.days)
        assert self.weekdays is not None
        return any(_weekday_matches(item, moment) for item in self.weekdays)


def _last_day(moment: datetime) -> int:
    return calendar.monthrange(moment.year, moment.month)[1]


def _weekday(moment: datetime) -> int:
    """1 (Sunday) to 7 (Saturday), as cron counts."""
    return (moment.isoweekday() % 7) + 1


def _day_matches(item: str, moment: datetime) -> bool:
    if item == "L":
        return moment.day == _last_day(moment)
    if item.endswith("W"):
        return moment.day == _nearest_weekday(moment, int(item[:-1]))
    return moment.day in _plain(item, 2)


def _nearest_weekday(moment: datetime, day: int) -> int:
    """The weekday (Mon-Fri) nearest `day` of the month, not leaving the month."""
    last = _last_day(moment)
    day = min(day, last)
    weekday = calendar.weekday(moment.year, moment.month, day)  # Monday 0
    if weekday == 5:  # Saturday: Friday, or Monday if Friday is in the month before
        return day - 1 if day > 1 else day + 2
    if weekday == 6:  # Sunday: Monday, or Friday if Monday is in the month after
        return day + 1 if day < last else day - 2
    return day


def _weekday_matches(item: str, moment: datetime) -> bool:
    weekday = _weekday(moment)
    if item == "L":
        return weekday == 7
    if "#" in item:
        day, _, nth = item.partition("#")
        return weekday == _value(day, 4) and (moment.day - 1) // 7 + 1 == int(nth)
    if item.endswith("L"):
        return weekday == _value(item[:-1], 4) and moment.day + 7 > _last_day(moment)
    return weekday in _plain(item, 4)


def _check_day(item: str) -> None:
    if item == "L":
        return
    if item.endswith("W"):
        _value(item[:-1], 2)
        return
    _plain(item, 2)


def _check_weekday(item: str, items: list[str]) -> None:
    if item == "L":
        return
    if "#" in item:
        if len(items) > 1:
            raise ValueError("Day-of-week: a '#' item must be the only one")
        day, _, nth = item.partition("#")
        _value(day, 4)
        if nth not in {"1", "2", "3", "4", "5"}:
            raise ValueError(f"Day-of-week: {item!r} needs an instance 1-5 after '#'")
        return
    if item.endswith("L"):
        _value(item[:-1], 4)
        return
    _plain(item, 4)


def parse_cron(text: str) -> Cron:
    """`text` as a Cron, or ValueError naming what is wrong (module docstring: the syntax)."""
    match = _CRON.match(text.strip())
    if not match:
        raise ValueError(f"{text!r} is not a cron(...) expression")
    fields = match["body"].split()
    if len(fields) != 6:
        raise ValueError(
            f"cron(...) takes six fields ({' '.join(FIELDS)}), not {len(fields)}: {text!r}"
        )
    minutes, hours, dom, month, dow, year = fields
    if (dom == "?") == (dow == "?"):
        raise ValueError(
            "one of Day-of-month and Day-of-week must be '?' and the other not "
            f"(AWS accepts a value or * in only one of them): {text!r}"
        )
    days = None if dom == "?" else tuple(dom.split(","))
    weekdays = None if dow == "?" else tuple(dow.split(","))
    for item in days or ():
        _check_day(item)
    for item in weekdays or ():
        _check_weekday(item, list(weekdays or ()))

    def values(field: str, index: int) -> frozenset[int]:
        return frozenset().union(*(_plain(item, index) for item in field.split(",")))

    return Cron(
        text=text.strip(),
        minutes=values(minutes, 0),
        hours=values(hours, 1),
        months=values(month, 3),
        years=values(year, 5),
        days=days,
        weekdays=weekdays,
    )
