"""Cron schedules as Karpenter reads budget schedules: `github.com/robfig/cron/v3`'s
`ParseStandard` (five fields or an `@yearly|@annually|@monthly|@weekly|@daily|@midnight|@hourly`
descriptor) with `TZ=UTC` prepended, and `Next`.

Field rules (robfig/cron v3 parser.go): lists `a,b`, ranges `a-b`, steps `*/n`, `a-b/n` and `a/n`
(a to the field's maximum), `*` or `?` for any; month names jan-dec and weekday names sun-sat,
case-insensitive; day of week is 0-6 (7 is rejected). When day of month or day of week is `*`
(or `?`, without a step above 1) a day must match both, otherwise either (spec.go dayMatches).
"""

from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cached_property, lru_cache

STAR = 1 << 63
_MONTH_NAMES = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_MONTHS = {m: i for i, m in enumerate(_MONTH_NAMES, 1)}
_DAYS = {d: i for i, d in enumerate(("sun", "mon", "tue", "wed", "thu", "fri", "sat"))}
_BOUNDS: dict[str, tuple[int, int, dict[str, int]]] = {
    "minute": (0, 59, {}),
    "hour": (0, 23, {}),
    "dom": (1, 31, {}),
    "month": (1, 12, _MONTHS),
    "dow": (0, 6, _DAYS),
}


class CronError(ValueError):
    """A schedule robfig/cron's standard parser refuses (Karpenter then fails the budget closed)."""


def _all(field: str) -> int:
    low, high, _ = _BOUNDS[field]
    return _bits(low, high, 1) | STAR


def _bits(low: int, high: int, step: int) -> int:
    return sum(1 << i for i in range(low, high + 1, step))


def _number(text: str, names: dict[str, int]) -> int:
    if text.lower() in names:
        return names[text.lower()]
    try:
        value = int(text)
    except ValueError:
        raise CronError(f"failed to parse int from {text}") from None
    if value < 0:
        raise CronError(f"negative number ({value}) not allowed: {text}")
    return value


def _range(expr: str, field: str) -> int:
    low, high, names = _BOUNDS[field]
    range_and_step = expr.split("/")
    low_high = range_and_step[0].split("-")
    extra = 0
    if low_high[0] in ("*", "?"):
        start, end, extra = low, high, STAR
    elif len(low_high) == 1:
        start = end = _number(low_high[0], names)
    elif len(low_high) == 2:
        start, end = _number(low_high[0], names), _number(low_high[1], names)
    else:
        raise CronError(f"too many hyphens: {expr}")
    step = 1
    if len(range_and_step) == 2:
        step = _number(range_and_step[1], {})
        if len(low_high) == 1:
            end = high
        if step > 1:
            extra = 0
    elif len(range_and_step) > 2:
        raise CronError(f"too many slashes: {expr}")
    if start < low or end > high or start > end or step == 0:
        raise CronError(f"invalid range {expr!r} for {field} ({low}-{high})")
    return _bits(start, end, step) | extra


@dataclass(frozen=True)
class Schedule:
    minute: int
    hour: int
    dom: int
    month: int
    dow: int

    @classmethod
    def parse(cls, spec: str) -> Schedule:
        """Karpenter: `cron.ParseStandard("TZ=UTC " + schedule)`."""
        spec = spec.strip()
        if spec.startswith("@"):
            return cls._descriptor(spec)
        fields = spec.split()
        if len(fields) != 5:
            raise CronError(f"expected exactly 5 fields, found {len(fields)}: {fields}")
        names = ("minute", "hour", "dom", "month", "dow")
        bits = [0] * 5
        for i, (text, field) in enumerate(zip(fields, names, strict=True)):
            for expr in [e for e in text.split(",") if e]:
                bits[i] |= _range(expr, field)
        return cls(*bits)

    @classmethod
    def _descriptor(cls, spec: str) -> Schedule:
        if spec == "@hourly":
            return cls(1, _all("hour"), _all("dom"), _all("month"), _all("dow"))
        if spec == "@weekly":
            return cls(1, 1, _all("dom"), _all("month"), 1)
        if spec in ("@daily", "@midnight"):
            return cls(1, 1, _all("dom"), _all("month"), _all("dow"))
        if spec == "@monthly":
            return cls(1, 1, 1 << 1, _all("month"), _all("dow"))
        if spec in ("@yearly", "@annually"):
            return cls(1, 1, 1 << 1, 1 << 1, _all("dow"))
        raise CronError(f"unrecognized descriptor: {spec}")

    def _day(self, day: datetime) -> bool:
        dom = bool(1 << day.day & self.dom)
        dow = bool(1 << ((day.weekday() + 1) % 7) & self.dow)
        if self.dom & STAR or self.dow & STAR:
            return dom and dow
        return dom or dow

    def next(self, after: datetime) -> datetime | None:
        """The first matching minute strictly after `after` (UTC); None beyond five years."""
        t = after.astimezone(UTC).replace(microsecond=0) + timedelta(seconds=1)
        if t.second:
            t = t.replace(second=0) + timedelta(minutes=1)
        limit = t.year + 5
        first = True
        day = t.replace(hour=0, minute=0)
        while day.year <= limit:
            if 1 << day.month & self.month and self._day(day):
                found = self._in_day(day, t if first else day)
                if found is not None:
                    return found
            day += timedelta(days=1)
            first = False
        return None

    @cached_property
    def _hours(self) -> tuple[int, ...]:
        return tuple(h for h in range(24) if 1 << h & self.hour)

    @cached_property
    def _minutes(self) -> tuple[int, ...]:
        return tuple(m for m in range(60) if 1 << m & self.minute)

    def _in_day(self, day: datetime, first: datetime) -> datetime | None:
        for hour in self._hours:
            if hour < first.hour:
                continue
            low = first.minute if hour == first.hour else 0
            index = bisect_left(self._minutes, low)
            if index < len(self._minutes):
                return day.replace(hour=hour, minute=self._minutes[index])
        return None


@lru_cache(maxsize=256)
def parse(spec: str) -> Schedule:
    """Schedule.parse, cached (budgets are evaluated at every step of a simulation)."""
    return Schedule.parse(spec)
