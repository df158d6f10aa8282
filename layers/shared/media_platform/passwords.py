"""bcrypt hashing with cost 12, and a check whose timing does not reveal whether the account exists."""

from __future__ import annotations

import re

import bcrypt

from media_platform.observability import logger

BCRYPT_COST = 12
# A cost-12 hash of a random string nobody knows: checked for unknown emails so they take as long as real ones.
_DUMMY_HASH = b"$2b$12$9PxPDEaaAlUq6A9RirbGJekSBgAw/MBnQJ.LT8.0G90RBtzr/Qcom"
_BCRYPT_HASH = re.compile(rb"^\$2[aby]\$(0[4-9]|[12]\d|3[01])\$[./A-Za-z0-9]{53}$")


def hash_password(password: str) -> str:
    return bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds=BCRYPT_COST)).decode()


def verify_password(password: str, stored_hash: str | None) -> bool:
    """True only for a matching password. Unknown users (no hash), over-long passwords and corrupt hashes are False.
    Every call does exactly one bcrypt check, so none of these cases can be told apart by the work done."""
    candidate = password.encode()
    stored = stored_hash.encode() if stored_hash is not None else None
    if stored is not None and not _BCRYPT_HASH.match(stored):
        logger.error("Stored password hash is malformed")
        stored = None
    if stored is None or len(candidate) > 72:
        bcrypt.checkpw(candidate[:72], _DUMMY_HASH)
        return False
    try:
        return bcrypt.checkpw(candidate, stored)
    except ValueError:  # a hash of the right shape that bcrypt still refuses
        logger.error("Stored password hash is malformed")
        return False
