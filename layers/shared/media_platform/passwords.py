"""bcrypt hashing with cost 12, and a check whose timing does not reveal whether the account exists."""

from __future__ import annotations

import bcrypt

from media_platform.observability import logger

BCRYPT_COST = 12
# A cost-12 hash of a random string nobody knows: checked for unknown emails so they take as long as real ones.
_DUMMY_HASH = b"$2b$12$9PxPDEaaAlUq6A9RirbGJekSBgAw/MBnQJ.LT8.0G90RBtzr/Qcom"


def hash_password(password: str) -> str:
    return bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds=BCRYPT_COST)).decode()


def verify_password(password: str, stored_hash: str | None) -> bool:
    """True only for a matching password. Unknown users (no hash), over-long passwords and corrupt hashes are False,
    after the same bcrypt work as a real check."""
    candidate = password.encode()
    if stored_hash is None or len(candidate) > 72:
        bcrypt.checkpw(candidate[:72], _DUMMY_HASH)
        return False
    try:
        return bcrypt.checkpw(candidate, stored_hash.encode())
    except ValueError:
        logger.error("Stored password hash is malformed")
        bcrypt.checkpw(candidate, _DUMMY_HASH)
        return False
