"""Verification codes: an HMAC-SHA256 tag over the certificate's canonical content.

A code reads ``<certificate number>-XXXX-XXXX-XXXX-XXXX``: the certificate number
(so a verifier can find the record) followed by the first 80 bits of
HMAC-SHA256(key, canonical content) in Crockford base32, grouped by four. Reading
is forgiving the way Crockford base32 intends: case, spaces and the hyphens
inside the tag do not matter, and O/I/L are read as 0/1/1.

The key comes from HNCE_CERT_KEY (64 hex digits, or any string of at least 16
bytes), else from ``<data dir>/certificate.key`` (32 random bytes, mode 600). The key
is never printed; its id (`key_id`, a hash of it) names it in the database, in logs
and in messages. One deployment signs with one key: every host serving one database
holds the same key, and the keys it signed with before a rotation are kept, by id, in
HNCE_CERT_OLD_KEYS, so that what they signed still verifies (`KeyRing`). Reading the
keys never creates one: the services create the key file only for the first
certificate a database records (docs/deploy.md).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from hnce_cli.certificates.model import CertificateContent

TAG_BITS = 80
TAG_CHARS = TAG_BITS // 5  # 16 symbols
GROUP = 4
KEY_ENV = "HNCE_CERT_KEY"
# Keys this deployment signed with before a rotation: what they signed keeps verifying.
OLD_KEYS_ENV = "HNCE_CERT_OLD_KEYS"
# Ids of keys that are lost (or must no longer vouch for anything): what they signed verifies
# as altered, and is signed anew with the current key on its next print.
WITHDRAWN_ENV = "HNCE_CERT_WITHDRAWN_KEYS"
# The id of certificates signed before key ids were recorded (key_id NULL), for WITHDRAWN_ENV.
LEGACY = "legacy"
KEY_FILE_NAME = "certificate.key"
MIN_KEY_BYTES = 16

_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_DECODE = {c: i for i, c in enumerate(_ALPHABET)}
_DECODE.update({"O": 0, "I": 1, "L": 1})
_NUMBER_RE = re.compile(r"^[0-9A-Z]+(?:-[0-9A-Z]+)*$")


class InvalidCode(ValueError):
    """The text is not a verification code at all (wrong length or characters)."""


@dataclass(frozen=True)
class ParsedCode:
    certificate_number: str
    tag: str  # 16 canonical Crockford symbols

    def __str__(self) -> str:
        return format_code(self.certificate_number, self.tag)


def _b32(data: bytes, n_chars: int) -> str:
    value = int.from_bytes(data, "big")
    bits = len(data) * 8
    value >>= bits - n_chars * 5
    return "".join(_ALPHABET[(value >> (5 * (n_chars - 1 - i))) & 31] for i in range(n_chars))


def check_certificate_number(number: str) -> str:
    """Certificate numbers are upper-case letters and digits, optionally in hyphenated groups."""
    norm = number.strip().upper()
    if not _NUMBER_RE.match(norm):
        raise ValueError(f"certificate number {number!r} must be letters and digits, optionally hyphenated")
    return norm


def tag_for(content: CertificateContent, key: bytes) -> str:
    digest = hmac.new(key, content.canonical(), hashlib.sha256).digest()
    return _b32(digest[: TAG_BITS // 8], TAG_CHARS)


def format_code(certificate_number: str, tag: str) -> str:
    groups = [tag[i : i + GROUP] for i in range(0, len(tag), GROUP)]
    return "-".join([certificate_number, *groups])


def sign(content: CertificateContent, key: bytes) -> str:
    """The verification code for this content under this key."""
    number = check_certificate_number(content.certificate_number)
    return format_code(number, tag_for(content, key))


def parse(code: str) -> ParsedCode:
    """Split a code (as typed or scanned) into certificate number and tag; raises InvalidCode."""
    text = re.sub(r"\s+", "", code or "").upper()
    if "/" in text:  # a scanned verify URL: the code is its last path segment
        text = text.rstrip("/").rsplit("/", 1)[-1]
    tag_rev: list[str] = []
    i = len(text) - 1
    while i >= 0 and len(tag_rev) < TAG_CHARS:
        ch = text[i]
        if ch == "-":
            # Hyphens inside the tag may be left out, but one typed stands between groups of
            # four: a group of three is a character lost in copying, and reading on would
            # take the number's last digit into the tag (and report another number unknown).
            if len(tag_rev) % GROUP:
                raise InvalidCode(f"a group of the code has {len(tag_rev) % GROUP} characters, not {GROUP}: "
                                  "a character is missing or extra")
        else:
            if ch not in _DECODE:
                raise InvalidCode(f"character {ch!r} is not used in verification codes")
            tag_rev.append(_ALPHABET[_DECODE[ch]])
        i -= 1
    number = text[: i + 1].rstrip("-")
    if len(tag_rev) < TAG_CHARS or not number or not _NUMBER_RE.match(number):
        raise InvalidCode("not a verification code (expected <certificate number>-XXXX-XXXX-XXXX-XXXX)")
    return ParsedCode(number, "".join(reversed(tag_rev)))


def verify(code: str, content: CertificateContent, key: bytes) -> bool:
    """True only if the code was made by `sign` for exactly this content and key (constant-time compare)."""
    try:
        parsed = parse(code)
        number = check_certificate_number(content.certificate_number)
    except ValueError:
        return False
    expected = tag_for(content, key)
    same_tag = hmac.compare_digest(parsed.tag.encode(), expected.encode())
    same_number = hmac.compare_digest(parsed.certificate_number.encode(), number.encode())
    return same_tag and same_number


def key_fingerprint(key: bytes) -> str:
    """A short, non-secret name for a key (for logs and diagnostics)."""
    return hashlib.sha256(b"hnce-cert-key-id\0" + key).hexdigest()[:12]


# The id a certificate records of the key that signed it: the fingerprint (not secret).
key_id = key_fingerprint


def _key_from_env(raw: str, name: str = KEY_ENV) -> bytes:
    raw = raw.strip()
    key = bytes.fromhex(raw) if re.fullmatch(r"[0-9a-fA-F]{64}", raw) else raw.encode("utf-8")
    if len(key) < MIN_KEY_BYTES:
        raise ValueError(f"{name} is too short: use at least {MIN_KEY_BYTES} bytes (e.g. 64 hex digits)")
    return key


@dataclass(frozen=True)
class KeyRing:
    """The keys of this deployment as this process holds them: the current one (signs), the
    old ones kept after rotations (verify what they signed) and the ids of withdrawn ones."""

    current: bytes | None
    keys: Mapping[str, bytes] = field(default_factory=dict)  # by id: the current key and the old ones
    withdrawn: frozenset[str] = frozenset()
    where: str = ""  # where the current key is read from (for messages)

    @property
    def current_id(self) -> str | None:
        return None if self.current is None else key_id(self.current)

    def verifies(self, code: str, content: CertificateContent, kid: str | None) -> bool:
        """Whether the key `kid` signed this code for this content (None: any key held, the
        rule for certificates recorded before key ids were)."""
        if kid is None:
            return any(verify(code, content, key) for key in self.keys.values())
        key = self.keys.get(kid)
        return key is not None and verify(code, content, key)


def load_ring() -> KeyRing:
    """The keys in force, read from the environment and the key file; never creates a key."""
    env = os.environ.get(KEY_ENV)
    current: bytes | None
    if env:
        current, where = _key_from_env(env), KEY_ENV
    else:
        path = key_path()
        where = str(path)
        try:
            current = path.read_bytes()
        except FileNotFoundError:
            current = None
        if current is not None and len(current) < MIN_KEY_BYTES:
            raise ValueError(f"certificate key file {path} is too short ({len(current)} bytes); restore it from backup")
    keys = {}
    for raw in re.split(r"[\s,]+", os.environ.get(OLD_KEYS_ENV, "").strip()):
        if raw:
            old = _key_from_env(raw, OLD_KEYS_ENV)
            keys[key_id(old)] = old
    if current is not None:
        keys[key_id(current)] = current
    withdrawn = frozenset(w for w in re.split(r"[\s,]+", os.environ.get(WITHDRAWN_ENV, "").strip().lower()) if w)
    return KeyRing(current, keys, withdrawn, where)


def create_key() -> bytes:
    """The key file, created with 32 random bytes if it is not there (the first process wins)."""
    return load_key(create=True)


def key_path() -> Path:
    from hnce_cli.settings import data_dir

    return data_dir() / KEY_FILE_NAME


def load_key(path: Path | None = None, *, create: bool = True) -> bytes:
    """The signing key: HNCE_CERT_KEY, else the key file (created with 32 random bytes, mode 600,
    when `create`). The services read keys with `load_ring`, which never creates one."""
    env = os.environ.get(KEY_ENV)
    if env and path is None:
        return _key_from_env(env)
    path = path or key_path()
    try:
        key = path.read_bytes()
    except FileNotFoundError:
        if not create:
            raise
        key = _create_key_file(path)
    if len(key) < MIN_KEY_BYTES:
        raise ValueError(f"certificate key file {path} is too short ({len(key)} bytes); restore it from backup")
    return key


def _create_key_file(path: Path) -> bytes:
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_bytes(32)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(key)
            fh.flush()
            os.fsync(fh.fileno())
        try:
            os.link(tmp, path)  # atomic and never overwrites: the first process to create the key wins
        except FileExistsError:
            return path.read_bytes()
        return key
    finally:
        tmp.unlink(missing_ok=True)
