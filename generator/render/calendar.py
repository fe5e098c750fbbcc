"""calendar.ics: the dates of `policy due` as an iCalendar feed (RFC 5545) that legal staff
subscribe to, written by the icalendar library.

Deterministic: an event's UID is made of what it is about (kind, id, date), never of a clock
or a counter, so calendar clients update an event in place when its summary changes and never
show it twice; DTSTAMP, which RFC 5545 requires, is the time of the revision built (its commit,
or SOURCE_DATE_EPOCH), not the time of the build.

Cost: icalendar takes about 0.1 ms an event (0.35 s for the 3,000 events of a 1,000-document
policy); the page is rendered again only when a date, or what an event says, changes.
"""

from __future__ import annotations

import datetime as dt


from ..due import Due


def calendar_ics(items: list[Due], organization: str, base_url: str, stamp: dt.datetime) -> bytes:
    import icalendar  # (18 ms: imported only when the calendar is made again)

    cal = icalendar.Calendar()
    cal.add("prodid", f"-//{organization}//policy-as-code usage policy dates//EN")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", f"{organization}: policy reviews and scheduled changes")
    for item in items:
        event = icalendar.Event()
        event.add("uid", f"{item.kind}.{item.subject}.{item.day.isoformat()}@policy")
        event.add("dtstamp", stamp)
        event.add("dtstart", item.day)  # a date and no DTEND: an all-day event (RFC 5545, 3.6.1)
        event.add("summary", item.summary)
        description = item.title
        if item.fix:
            description += f"\nWhen it is past: {item.fix}."
        event.add("description", description)
        if base_url:
            event.add("url", base_url + item.page)
        cal.add_component(event)
    return cal.to_ical()
