"""Accounts: users, roles and logins (`auth`)."""

from chainatlas.services.accounts.auth import (
    LOCKOUT,
    MAX_FAILED_LOGINS,
    MIN_PASSWORD_LENGTH,
    ROLE_NAMES,
    ROLES,
    AuthError,
    UserInfo,
    authenticate,
    create_user,
    get_user,
    list_users,
    set_active,
    set_password,
    set_role,
    user_records,
)

__all__ = [
    "LOCKOUT", "MAX_FAILED_LOGINS", "MIN_PASSWORD_LENGTH", "ROLES", "ROLE_NAMES", "AuthError", "UserInfo",
    "authenticate", "create_user", "get_user", "list_users", "set_active", "set_password", "set_role", "user_records",
]
