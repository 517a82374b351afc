"""License key and coupon codes: PREFIX-XXXXX-XXXXX-XXXXX-XXXXX with a check character.

The 20 characters after the prefix come from a 32-symbol alphabet without look-alikes (no I, L,
O, U). The last one is a check character chosen so that sum(alpha**i * c[i]) == 0 in GF(32),
with c[i] the symbols' values and alpha a generator of the field. As the weights alpha**i are
distinct and non-zero, every single substitution and every swap of two neighbours changes the
sum, so a mistyped code is known to be malformed without looking it up.
"""

import re
import secrets

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
PREFIX_LENGTH = 4
GROUPS = 4
GROUP_LENGTH = 5
BODY_LENGTH = GROUPS * GROUP_LENGTH
COUPON_INFIX = "UPD"
_VALUE = {symbol: value for value, symbol in enumerate(ALPHABET)}
# Look-alikes typed by people are read as what they resemble.
_READ_AS = str.maketrans({"O": "0", "I": "1", "L": "1"})
_SEPARATORS = re.compile(r"[\s\-_–—]+")
_FIELD_POLYNOMIAL = 0b100101  # x^5 + x^2 + 1, primitive, so x generates GF(32)


def _gf_multiply(a: int, b: int) -> int:
    product = 0
    while b:
        if b & 1:
            product ^= a
        b >>= 1
        a <<= 1
        if a & 0b100000:
            a ^= _FIELD_POLYNOMIAL
    return product


def _weights() -> list[int]:
    weights, weight = [], 1
    for _position in range(BODY_LENGTH):
        weights.append(weight)
        weight = _gf_multiply(weight, 0b10)
    return weights


_WEIGHTS = _weights()
_INVERSE_OF_LAST = next(
    candidate for candidate in range(1, 32) if _gf_multiply(_WEIGHTS[-1], candidate) == 1
)


# Per position, the product of its weight with every symbol value: a sum is then 20 lookups.
_WEIGHTED = [[_gf_multiply(weight, value) for value in range(32)] for weight in _WEIGHTS]
# A random byte read as a symbol: its low 5 bits (256 is a multiple of 32, so all are as likely).
_SYMBOL_OF_BYTE = bytes(ord(ALPHABET[byte & 0b11111]) for byte in range(256))


def _weighted_sum(values: list[int]) -> int:
    total = 0
    for products, value in zip(_WEIGHTED, values, strict=False):
        total ^= products[value]
    return total


def check_symbol(body: str) -> str:
    """The check character for the first 19 characters of a code body."""
    partial = _weighted_sum([_VALUE[symbol] for symbol in body])
    return ALPHABET[_gf_multiply(partial, _INVERSE_OF_LAST)]


def body_is_valid(body: str) -> bool:
    if len(body) != BODY_LENGTH or any(symbol not in _VALUE for symbol in body):
        return False
    return _weighted_sum([_VALUE[symbol] for symbol in body]) == 0


def generate_body() -> str:
    head = "".join(secrets.choice(ALPHABET) for _position in range(BODY_LENGTH - 1))
    return head + check_symbol(head)


def format_code(prefix: str, body: str) -> str:
    groups = [body[start : start + GROUP_LENGTH] for start in range(0, BODY_LENGTH, GROUP_LENGTH)]
    return "-".join([prefix, *groups])


def generate_key(prefix: str) -> str:
    return format_code(prefix, generate_body())


def generate_coupon(prefix: str) -> str:
    """A coupon code: the vendor's prefix and UPD, then the same four groups as a key."""
    return format_code(prefix + COUPON_INFIX, generate_body())


def generate_coupons(prefix: str, count: int) -> list[str]:
    """`count` coupon codes drawn at once, from one read of the system's randomness (a batch
    of 10,000 codes would otherwise spend more time drawing than storing them)."""
    head_length = BODY_LENGTH - 1
    symbols = secrets.token_bytes(count * head_length).translate(_SYMBOL_OF_BYTE).decode()
    codes = []
    for start in range(0, count * head_length, head_length):
        head = symbols[start : start + head_length]
        codes.append(format_code(prefix + COUPON_INFIX, head + check_symbol(head)))
    return codes


def compact(code: str) -> str:
    """Upper-case, without separators: the form in which typed codes are compared."""
    return _SEPARATORS.sub("", code).upper()


def parse_code(typed: str, *, prefix_length: int) -> tuple[str, str] | None:
    """(prefix, body) of a typed code in any formatting, or None when it is malformed."""
    text = compact(typed)
    prefix, body = text[:prefix_length], text[prefix_length:].translate(_READ_AS)
    if not prefix.isalpha() or not prefix.isascii() or not body_is_valid(body):
        return None
    return prefix, body


def key_number(typed: str) -> str | None:
    """A license key number as stored, from a number typed in any formatting; None when it is
    malformed."""
    parsed = parse_code(typed, prefix_length=PREFIX_LENGTH)
    return format_code(*parsed) if parsed is not None else None


# A number issued by the vendor's previous service: Latin capitals and digits, groups joined by
# hyphens, without our check character. It is kept as the client types it.
_LEGACY_NUMBER = re.compile(r"^[A-Z0-9]+(?:-[A-Z0-9]+)*\Z")
LEGACY_NUMBER_LENGTH = (6, 32)


def legacy_key_number(typed: str) -> str | None:
    """A legacy key number as kept (trimmed, upper-cased), or None when it cannot be one."""
    text = typed.strip().upper()
    low, high = LEGACY_NUMBER_LENGTH
    if not low <= len(text) <= high or not _LEGACY_NUMBER.match(text):
        return None
    return text
