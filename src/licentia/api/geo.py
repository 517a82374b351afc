"""Where an IP address is, offline: its country by geoip2fast's own data file (GeoLite2 data
created by MaxMind, shipped in the package) and that country's centre by countryinfo. No city
data ships in a package, so a point is a country's centre."""

import threading
from functools import cache
from typing import Any

_lock = threading.Lock()
_reader: Any = None


def _geoip() -> Any:
    global _reader
    with _lock:
        if _reader is None:
            from geoip2fast import GeoIP2Fast

            # The IPv4 and IPv6 data file; loaded once per process (about 0.3 s).
            _reader = GeoIP2Fast(geoip2fast_data_file="geoip2fast-ipv6.dat.gz", verbose=False)
        return _reader


@cache
def country_centre(code: str) -> tuple[float, float] | None:
    from countryinfo import CountryInfo

    try:
        latitude, longitude = CountryInfo(code).latlng()
    except Exception:
        return None
    return float(latitude), float(longitude)


def ip_country(ip: str) -> str | None:
    """The ISO code of the IP's country, or None (a private, reserved or unknown address)."""
    try:
        code = _geoip().lookup(ip).country_code
    except Exception:
        return None
    return code if isinstance(code, str) and len(code) == 2 and code.isalpha() else None


def ip_place(ip: str) -> tuple[float, float] | None:
    """(latitude, longitude) of the IP's country's centre, or None."""
    code = ip_country(ip)
    return country_centre(code) if code else None
