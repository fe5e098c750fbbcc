"""calendar.ics is written by generator/render/calendar.py, not by the icalendar library (ten
times faster): the bytes must be the ones icalendar writes for the same calendar, on any text,
and icalendar must read them back to the same events."""

from __future__ import annotations

import datetime as dt
import random

import icalendar
import pytest

from generator.due import KINDS, Due
from generator.model import Origin
from generator.render.calendar import calendar_ics

# what makes escaping and folding hard: the TEXT specials, line breaks of every kind, a literal
# "\N", characters of 2, 3 and 4 octets, and spaces
ALPHABET = list("abcdefghij ,;:\\\"'^") + ["\n", "\r", "\r\n", "\\N", "é", "ß", "€", "中", "😀", "\u0301", "\t"]
ASCII = list("abcdefghij ,;:\\\"'^") + ["\n", "\r", "\r\n", "\\N", "\\\\", "^^", "\t"]  # lines of one octet a character


def by_icalendar(items: list[Due], organization: str, base_url: str, stamp: dt.datetime) -> bytes:
    """The feed as the icalendar library writes it (what calendar.py wrote before)."""
    cal = icalendar.Calendar()
    cal.add("prodid", f"-//{organization}//policy-as-code usage policy dates//EN")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", f"{organization}: policy reviews and scheduled changes")
    for item in items:
        event = icalendar.Event()
        event.add("uid", f"{item.kind}.{item.subject}.{item.day.isoformat()}@policy")
        event.add("dtstamp", stamp)
        event.add("dtstart", item.day)
        event.add("summary", item.summary)
        description = item.title
        if item.fix:
            description += f"\nWhen it is past: {item.fix}."
        event.add("description", description)
        if base_url:
            event.add("url", base_url + item.page)
        cal.add_component(event)
    return cal.to_ical()


def text(rng: random.Random, alphabet: list[str] = ALPHABET) -> str:
    return "".join(rng.choice(alphabet) for _ in range(rng.choice([0, 1, 5, 40, 73, 74, 75, 76, 150, 400])))


@pytest.mark.parametrize("alphabet", [ALPHABET, ASCII], ids=["any", "ascii"])
def test_the_feed_is_byte_for_byte_what_icalendar_writes_on_any_text(alphabet):
    rng = random.Random(12)
    for case in range(300):
        items = [Due(dt.date(2020, 1, 1) + dt.timedelta(days=rng.randrange(4000)), rng.choice(sorted(KINDS)),
                     "subject-" + text(rng, alphabet)[:30], text(rng, alphabet), text(rng, alphabet), f"page-{i}/#x", Origin("p", 1, 1))
                 for i in range(rng.randrange(4))]
        organization = "".join(c for c in text(rng, alphabet) if c not in ",;\\\r\n")  # (see the test below)
        base = rng.choice(["", "https://example.com/policies/", "https://ex.com/" + "p" * 80 + "/"])
        stamp = dt.datetime(2025, 1, 1, tzinfo=dt.timezone.utc) + dt.timedelta(seconds=rng.randrange(10**8))
        mine = calendar_ics(items, organization, base, stamp)
        assert mine == by_icalendar(items, organization, base, stamp), case
        assert all(len(line) <= 75 for line in mine.split(b"\r\n"))  # octets, the space of a fold included
        read = icalendar.Calendar.from_ical(mine)
        assert [str(e["summary"]) for e in read.walk("VEVENT")] == \
            [i.summary.replace("\\N", "\n").replace("\r\n", "\n").replace("\r", "\n") for i in items]


def test_a_stamp_in_another_zone_is_written_in_utc():
    items = [Due(dt.date(2025, 3, 1), sorted(KINDS)[0], "s", "t", "u", "p/", Origin("p", 1, 1))]
    paris = dt.datetime(2025, 1, 1, 13, 0, tzinfo=dt.timezone(dt.timedelta(hours=1)))
    assert b"DTSTAMP:20250101T120000Z\r\n" in calendar_ics(items, "O", "", paris)


def test_the_calendar_name_is_text_escaped_unlike_icalendar():
    """icalendar writes X-WR-CALNAME as an unknown property, unescaped: "Acme, Inc." went out with
    a bare comma, and an organization name holding a line break stopped the build with an
    AssertionError. It is TEXT (as RFC 7986's NAME, which it predates) and is escaped as such."""
    ics = calendar_ics([], "A, B; C\nD", "", dt.datetime(2025, 1, 1, tzinfo=dt.timezone.utc))
    assert b"X-WR-CALNAME:A\\, B\\; C\\nD: policy reviews and scheduled changes\r\n" in ics
    assert b"PRODID:-//A\\, B\\; C\\nD//policy-as-code usage policy dates//EN\r\n" in ics
    assert icalendar.Calendar.from_ical(ics)["prodid"] == "-//A, B; C\nD//policy-as-code usage policy dates//EN"
