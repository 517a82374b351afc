"""What a key grants of a feature, read under the key's lock: the refusals shared by a capture
and a token consumption."""

from django.conf import settings

from licentia.catalog.models import LicenseType
from licentia.keys.models import KeyLine, LicenseKey
from licentia.keys.selectors import KeyLicense, Pool
from licentia.licensing import queries
from licentia.licensing.refusals import Code, Refusal

SEAT_TYPES = (LicenseType.USER, LicenseType.HOST, LicenseType.DATABASE, LicenseType.PROCESS)
TOKEN_TYPES = (LicenseType.TOKEN,)


def key_locked(number: str) -> tuple[LicenseKey, list[KeyLine]]:
    """The key and its lines, the key row locked until the transaction ends; 2009 when there
    is no such key."""
    # LICENTIA_CAPTURE_LOCK exists for the test that shows the race without the lock.
    found = queries.key_with_lines(
        number, for_update=getattr(settings, "LICENTIA_CAPTURE_LOCK", True)
    )
    if found is None:
        raise Refusal(Code.UNKNOWN_KEY)
    return found


def granted_pools(
    license_: KeyLicense, feature_id: int, types: tuple[LicenseType, ...]
) -> list[Pool]:
    """The key's live pools of the feature among the license types asked for. Refuses 2060
    when the key is blocked, 2061 when no product of the key ever had the feature (or, asking
    for seats, has it only as tokens), 2011 when no live line gives it in those types."""
    if license_.key.blocked:
        raise Refusal(Code.KEY_BLOCKED)
    if feature_id not in license_.features_ever_held():
        raise Refusal(Code.FEATURE_NOT_IN_KEY)
    pools = license_.pools.get(feature_id, {})
    wanted = [pools[kind] for kind in types if kind in pools]
    if wanted:
        return wanted
    if LicenseType.TOKEN in pools:
        # Held as tokens only: there is no seat of it to capture.
        raise Refusal(Code.FEATURE_NOT_IN_KEY)
    raise Refusal(Code.LICENSE_EXPIRED)
