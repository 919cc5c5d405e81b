"""Time in the domain model: every datetime is aware, and local means the utility's zone.

Local times are Asia/Shanghai: +08:00 today, but +09:00 in the summers of 1986-1991, when China kept
daylight saving time (old mains and meters carry dates from then), so the zone is a real tz database
zone and never a fixed offset. Reading a vendor's time format is an adapter's job
(`backends/vendor_times.py`); this module only names the zone everyone above them shows times in.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")
