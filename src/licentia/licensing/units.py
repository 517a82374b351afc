"""Who asks the server for a seat, and how that unit is named for each license type."""

from dataclasses import dataclass

from licentia.catalog.models import LicenseType
from licentia.core.audit import Actor
from licentia.core.models import ActorKind


@dataclass(frozen=True)
class Unit:
    """Who asks for a seat: the application's user, host, infobase and process."""

    user: str = ""
    host: str = ""
    database: str = ""
    process_id: str = ""

    def name_for(self, license_type: str) -> str | None:
        """The unit that takes one seat of the type, or None when a part of it is missing."""
        host = self.host.strip().lower()
        parts = {
            LicenseType.USER: (self.user.strip(), host),
            LicenseType.HOST: (host,),
            LicenseType.DATABASE: (self.database.strip(),),
            LicenseType.PROCESS: (self.process_id.strip(), host),
        }[LicenseType(license_type)]
        return "@".join(parts) if all(parts) else None

    def missing_for(self, license_type: str) -> list[str]:
        needs = {
            LicenseType.USER: ["user", "host"],
            LicenseType.HOST: ["host"],
            LicenseType.DATABASE: ["database"],
            LicenseType.PROCESS: ["process_id", "host"],
        }[LicenseType(license_type)]
        return [name for name in needs if not getattr(self, name).strip()]

    def any_name(self) -> str:
        return "@".join(part for part in (self.user, self.host, self.database) if part)


def application_actor(unit: Unit, ip: str | None) -> Actor:
    return Actor(kind=ActorKind.APPLICATION, label=unit.any_name() or "application", ip=ip)
