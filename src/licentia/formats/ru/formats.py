"""Dates as a Russian manager writes them: 15.03.2025 and 15.03.2025 14:05 (Django's own Russian
formats spell the month out, «15 марта 2025 г.»)."""

DATE_FORMAT = "d.m.Y"
SHORT_DATE_FORMAT = "d.m.Y"
DATETIME_FORMAT = "d.m.Y H:i"
SHORT_DATETIME_FORMAT = "d.m.Y H:i"
TIME_FORMAT = "H:i"
