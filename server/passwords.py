"""Password hashing with hashlib.scrypt: a random salt per password, parameters stored with it.

Stored form: `scrypt$<n>$<r>$<p>$<salt hex>$<hash hex>`, so the cost can change later
without breaking existing hashes: `needs_rehash()` tells the login to store a fresh hash
made with today's cost once the password is known to be right.

Cost: OWASP's Password Storage Cheat Sheet lists equal-strength scrypt rows (N=2^17 r=8 p=1,
N=2^16 r=8 p=2, N=2^15 r=8 p=3, N=2^14 r=8 p=5, N=2^13 r=8 p=10). They cost the same CPU
time; we use N=2^14, r=8, p=5: 16 MiB per hash (p runs one after another in hashlib),
so the login's bounded hashing pool (see `server.auth`) holds at most 16 MiB per worker.
Measured 0.18 s per hash on the 2-core build machine (the old N=2^14 p=1: 0.04 s).

A password everyone knows (the demo accounts', printed at start; the test trainees that
`--faults` creates) gets `hash_public_password`: a slow hash of a known password protects
nothing, so it is made at a low cost (~1 ms, not 0.18 s: a `--demo` start seeds four), which
`needs_rehash` reports, so the first login stores it at today's cost like any older hash.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

N, R, P = 2**14, 8, 5
PUBLIC_N, PUBLIC_R, PUBLIC_P = 2**10, 8, 1  # only for public passwords: see the module's text
MIN_PASSWORD_CHARS = 8  # NIST SP 800-63B's least for a password the user chose
MAX_PASSWORD_CHARS = 1024  # the login refuses longer ones (400) before hashing them
_KEY_LEN = 32
_MAX_MEM = 64 * 1024 * 1024  # refuses a stored hash whose parameters would need more


def password_problem(password: str) -> str | None:
    """Why `password` may not be set (a new or changed password), or None."""
    if len(password) < MIN_PASSWORD_CHARS:
        return f"a password needs at least {MIN_PASSWORD_CHARS} characters"
    if len(password) > MAX_PASSWORD_CHARS:
        return f"a password may have at most {MAX_PASSWORD_CHARS} characters"
    return None


def hash_password(password: str) -> str:
    return _hash(password, N, R, P)


def hash_public_password(password: str) -> str:
    """For a password that is public anyway (see the module's text); upgraded at first login."""
    return _hash(password, PUBLIC_N, PUBLIC_R, PUBLIC_P)


def _hash(password: str, n: int, r: int, p: int) -> str:
    salt = secrets.token_bytes(16)
    digest = _scrypt(password, salt, n, r, p)
    return f"scrypt${n}${r}${p}${salt.hex()}${digest.hex()}"


def verify_password(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt_hex, digest_hex = stored.split("$")
        if scheme != "scrypt":
            return False
        digest = _scrypt(password, bytes.fromhex(salt_hex), int(n), int(r), int(p))
    except ValueError:
        return False
    return hmac.compare_digest(digest, bytes.fromhex(digest_hex))


def needs_rehash(stored: str) -> bool:
    """Whether `stored` was made with other parameters than today's."""
    parts = stored.split("$")
    return len(parts) != 6 or parts[:4] != ["scrypt", str(N), str(R), str(P)]


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(password.encode("utf-8"), salt=salt, n=n, r=r, p=p, maxmem=_MAX_MEM, dklen=_KEY_LEN)
