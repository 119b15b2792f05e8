"""SHA-256 values in peep's form and in pip's form, and hashing archives.

peep wrote the SHA-256 of an archive as URL-safe base64 without padding (43
characters, the encoding of wheel RECORD files); pip writes it as 64 hex
digits. Both name the same 32 bytes.
"""

from __future__ import annotations

import base64
import binascii
import gzip
import hashlib
import re
import zipfile
import zlib

#: SHA-256 of zero bytes: what an empty or fully truncated download hashes to.
EMPTY_SHA256_HEX = hashlib.sha256(b"").hexdigest()

# 42 characters of the alphabet, then one whose two low bits are zero: 43
# characters carry 258 bits, and the last 2 must be 0 for a 256-bit digest.
# base64.urlsafe_b64decode silently skips characters outside the alphabet, so
# the text is checked with this pattern before it is decoded.
_PEEP_RE = re.compile(r"[A-Za-z0-9_-]{42}[AEIMQUYcgkosw048]")
_HEX_RE = re.compile(r"[0-9a-fA-F]{64}")

CHUNK = 1 << 20  # bytes read at a time when hashing a file


class MalformedHash(ValueError):
    """A value written as a hash that is not a well-formed SHA-256."""


_TO_STANDARD = bytes.maketrans(b"-_", b"+/")
_TO_URLSAFE = bytes.maketrans(b"+/", b"-_")
# The 16 characters whose 6 bits end in two zero bits: the last of 43.
_LAST = frozenset("AEIMQUYcgkosw048")

try:  # Python 3.11+: the decoder itself rejects any stray character
    binascii.a2b_base64(b"", strict_mode=True)  # type: ignore[call-arg]
    STRICT_BASE64 = True
except TypeError:
    STRICT_BASE64 = False


def peep_to_hex(value: str) -> str:
    """Return the hex form of a peep hash, or raise MalformedHash saying why.

    Strict, and fast enough for files of many thousands of hashes: 43
    characters of the URL-safe alphabet whose last one leaves the unused bits
    zero; anything else is malformed (the lenient decoder is never trusted).
    """
    if len(value) == 43 and value[-1] in _LAST and "+" not in value and "/" not in value:
        try:
            text = value.encode("ascii")
            standard = text.translate(_TO_STANDARD) + b"="
            if STRICT_BASE64:
                raw = binascii.a2b_base64(standard, strict_mode=True)  # type: ignore[call-arg]
            else:  # decode leniently, then insist that encoding gives it back
                raw = binascii.a2b_base64(standard)
                if binascii.b2a_base64(raw, newline=False).translate(_TO_URLSAFE)[:43] != text:
                    raw = b""
        except (UnicodeEncodeError, binascii.Error):
            raw = b""
        if len(raw) == 32:
            return raw.hex()
    raise MalformedHash(_diagnose_peep(value))


def hex_to_peep(hex_digest: str) -> str:
    """Return the peep form (unpadded URL-safe base64) of a hex SHA-256."""
    if _HEX_RE.fullmatch(hex_digest) is None:
        raise MalformedHash(f"{hex_digest!r} is not a SHA-256 hex digest")
    raw = binascii.unhexlify(hex_digest)
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def is_peep_hash(value: str) -> bool:
    return _PEEP_RE.fullmatch(value) is not None


def _diagnose_peep(value: str) -> str:
    if _HEX_RE.fullmatch(value):
        return (
            f"{value!r} is a hex digest, not peep's base64 form; write it as "
            f"'# sha256: {hex_to_peep(value.lower())}' or as pip's "
            f"'--hash=sha256:{value.lower()}'"
        )
    if len(value) != 43:
        return (
            f"{value!r} has {len(value)} characters; a peep sha256 value has 43 "
            "(unpadded URL-safe base64)"
        )
    bad = sorted({c for c in value if not (c.isascii() and (c.isalnum() or c in "-_"))})
    if bad:
        return f"{value!r} contains characters outside URL-safe base64: {''.join(bad)!r}"
    return f"{value!r} is not a valid SHA-256 in base64 (its last character cannot end one)"


def looks_incomplete(path: str) -> bool:
    """Whether an archive is cut short: a zip (wheel) without its central
    directory, or a gzip stream (sdist) that ends early. For diagnostics only,
    after a hash has already failed."""
    name = path.lower()
    try:
        if name.endswith((".whl", ".zip")):
            return not zipfile.is_zipfile(path)
        if name.endswith((".tar.gz", ".tgz")):
            with gzip.open(path, "rb") as f:
                while f.read(CHUNK):
                    pass
    except (OSError, EOFError, zlib.error):
        return True
    return False


def sha256_of_file(path: str) -> str:
    """Hex SHA-256 of a file, read in chunks so memory stays bounded."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()
