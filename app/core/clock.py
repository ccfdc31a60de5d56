"""The deployment's clock for deadlines: its time zone and what "end of day" means."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import time
from zoneinfo import ZoneInfo

from app.core.config import Settings

# A deadline "by the end of the day" is this wall-clock time unless the deployment says
# office hours end earlier (JTAI_OFFICE_HOURS_END).
END_OF_DAY = time(23, 59, 59)


@dataclass(frozen=True)
class Clock:
    tz: ZoneInfo
    end_of_day: time

    @classmethod
    def from_settings(cls, settings: Settings) -> Clock:
        end = END_OF_DAY
        if settings.office_hours_end:
            hours, minutes = settings.office_hours_end.split(":")
            end = time(int(hours), int(minutes))
        return cls(ZoneInfo(settings.timezone), end)
