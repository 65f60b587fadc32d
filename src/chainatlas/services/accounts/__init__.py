"""Accounts: users, roles and logins (`auth`), and the back-off after wrong passwords (`throttle`)."""

from chainatlas.services.accounts.auth import (
    MIN_PASSWORD_LENGTH,
    ROLE_NAMES,
    ROLES,
    AuthError,
    UserInfo,
    authenticate,
    create_user,
    display_names,
    end_sessions,
    get_user,
    list_users,
    set_active,
    set_password,
    set_role,
    unlock,
    user_records,
)
from chainatlas.services.accounts.throttle import FIRST_DELAY, FREE_FAILURES

__all__ = [
    "FIRST_DELAY", "FREE_FAILURES", "MIN_PASSWORD_LENGTH", "ROLE_NAMES", "ROLES",
    "AuthError", "UserInfo", "authenticate", "create_user", "display_names", "end_sessions", "get_user", "list_users", "set_active",
    "set_password", "set_role", "unlock", "user_records",
]
