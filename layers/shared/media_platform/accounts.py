"""Use cases of accounts and authentication: signup, login, the signed-in user, and user administration."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime

from media_platform import passwords, tokens
from media_platform.dal import users
from media_platform.dal.aws_errors import StartKeyRefused
from media_platform.errors import Conflict, Forbidden, NotAuthenticated, NotFound, TooManyAttempts
from media_platform.models import Role, SignupRequest, TokenOut, User, UserOut, UserPage, normalize_email
from media_platform.observability import logger
from media_platform.pagination import decode_cursor, encode_cursor, invalid_cursor
from media_platform.settings import get_settings

LOGIN_FAILED = "Incorrect email or password."


def signup(request: SignupRequest) -> UserOut:
    settings = get_settings()
    first_admin = not users.admins_exist()
    if not settings.signup_open and not first_admin:
        raise Forbidden("Public signup is closed; ask an admin for an account.")
    user = User(
        id=str(uuid.uuid4()),
        email=request.email,
        role=Role.ADMIN if first_admin else Role.VIEWER,
        password_hash=passwords.hash_password(request.password),
        created_at=datetime.now(UTC),
    )
    try:
        user = _create(user, first_admin)
    except users.EmailTaken:
        raise Conflict("An account with this email already exists.") from None
    logger.info("User signed up", extra={"user_id": user.id, "role": user.role.value})
    return user.public()


def _create(user: User, first_admin: bool) -> User:
    """Stores the user and returns it as stored: a viewer if another signup became the first admin meanwhile."""
    try:
        users.create_user(user, first_admin=first_admin)
    except users.FirstAdminTaken:
        # Another signup became the first admin between our read and our write: this one is a viewer.
        user = user.model_copy(update={"role": Role.VIEWER})
        users.create_user(user, first_admin=False)
    return user


def login(email: str, password: str) -> TokenOut:
    """Every attempt does exactly one bcrypt check, whatever the email and whether or not it is locked, so neither
    the answer nor its timing tells which emails have accounts."""
    settings = get_settings()
    try:
        normalized = normalize_email(email)
    except ValueError:
        passwords.verify_password(password, None)
        raise NotAuthenticated(LOGIN_FAILED) from None
    locked_for = users.count_login_attempt(normalized, settings.login_max_failures, settings.login_lock_seconds)
    if locked_for:
        passwords.verify_password(password, None)
        raise TooManyAttempts("Too many failed logins; try again later.", retry_after=locked_for)
    user = users.get_user_by_email(normalized)
    matched = passwords.verify_password(password, user.password_hash if user else None)  # runs for unknown emails too
    if user is None or not matched:
        logger.info("Login failed")
        raise NotAuthenticated(LOGIN_FAILED)
    users.clear_login_attempts(normalized)
    ttl = settings.access_token_ttl_seconds
    logger.info("User logged in", extra={"user_id": user.id})
    return TokenOut(access_token=tokens.issue(tokens.TokenKind.ACCESS, user.id, user.role, ttl), expires_in=ttl)


def signed_in_user(claims: tokens.Claims) -> User:
    """The stored user behind a verified access token: one read, so a role change, a deleted account or a logout
    takes effect on the next request. The token's own role claim is never trusted."""
    user = users.get_user(claims.subject)
    if user is None:
        raise NotAuthenticated("The account of this token no longer exists.")
    if user.tokens_valid_after is not None and claims.issued_at < user.tokens_valid_after:
        raise NotAuthenticated("This session has ended; sign in again.")
    return user


def logout(user: User) -> None:
    """Ends every session of the user at once: all tokens issued until now are refused."""
    try:
        users.end_sessions(user.id, at=time.time())
    except users.UserGone:
        raise NotFound("No such user.") from None
    logger.info("User logged out", extra={"user_id": user.id})


USERS_LISTING = "users/newest-first"


def list_users(limit: int, cursor: str | None) -> UserPage:
    try:
        found, last_key = users.list_users(limit, decode_cursor(cursor, users.CURSOR_KEYS, USERS_LISTING))
    except StartKeyRefused:
        raise invalid_cursor() from None
    return UserPage(items=[user.public() for user in found], next_cursor=encode_cursor(last_key, USERS_LISTING))


def change_role(user_id: str, role: Role) -> UserOut:
    user = users.get_user(user_id)
    if user is None:
        raise NotFound("No such user.")
    if user.role != role:
        try:
            users.change_role(user, role, sessions_end_at=time.time())
        except users.LastAdmin:
            raise Conflict("The last admin cannot be demoted.") from None
        except users.UserChanged:
            raise NotFound("No such user, or it changed meanwhile.") from None
    logger.info("Role changed", extra={"user_id": user.id, "role": role.value})
    return user.model_copy(update={"role": role}).public()
