"""Back-off for wrong passwords that no stranger can turn into a lock-out.

The old rule (five wrong passwords lock the account for 15 minutes) let anyone lock an administrator out, and
the per-address limit refused a colleague behind the same address even with the right password. Now:

- Failures are counted per user and *source*. A source is the browser's device id when it carries one signed for
  that user (set at each successful login: "device:…"), else the client's address ("addr:…", X-Forwarded-For
  only from configured proxies, web/security.py).
- After FREE_FAILURES failures of a user from one source within WINDOW, that source waits before its next try:
  FIRST_DELAY, doubling with each further failure, at most MAX_DELAY. Only that source waits: the user from a
  browser that signed in before, or from another address, is not delayed by a stranger's guesses.
- An address with ADDRESS_FAILURES failures within WINDOW (any users: password spraying) waits MAX_DELAY for
  logins without a device id; browsers that signed in before still get in with the right password.
- A successful login clears that user's failures from that source; `chainatlas users unlock` and a password reset
  clear all of the user's.

Failures are rows in the database, so every worker process counts the same ones.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from chainatlas.store.models import LoginFailure

FREE_FAILURES = 5
WINDOW = timedelta(minutes=15)
FIRST_DELAY = timedelta(seconds=30)
MAX_DELAY = timedelta(minutes=15)
ADDRESS_FAILURES = 50


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=timezone.utc)  # SQLite drops the zone


def _delay(failures: int) -> timedelta:
    return min(FIRST_DELAY * 2 ** (failures - FREE_FAILURES), MAX_DELAY) if failures >= FREE_FAILURES else timedelta(0)


def wait(session: Session, username: str, source: str, *, now: datetime) -> timedelta:
    """How long this source must wait before it may try this user's password again (zero: it may now)."""
    since = now - WINDOW
    count, last = session.execute(
        select(func.count(), func.max(LoginFailure.at))
        .where(LoginFailure.username == username, LoginFailure.source == source, LoginFailure.at > since)
    ).one()
    delay = max(timedelta(0), _aware(last) + _delay(count) - now) if count >= FREE_FAILURES else timedelta(0)
    if source.startswith("addr:"):
        total, newest = session.execute(
            select(func.count(), func.max(LoginFailure.at)).where(LoginFailure.source == source, LoginFailure.at > since)
        ).one()
        if total >= ADDRESS_FAILURES:
            delay = max(delay, _aware(newest) + MAX_DELAY - now)
    return delay


def failed(session: Session, username: str, source: str, *, now: datetime) -> None:
    session.add(LoginFailure(username=username[:80], source=source[:120], at=now))
    session.execute(delete(LoginFailure).where(LoginFailure.at < now - 2 * WINDOW))  # keep the table small


def succeeded(session: Session, username: str, source: str) -> None:
    session.execute(delete(LoginFailure).where(LoginFailure.username == username, LoginFailure.source == source))


def clear(session: Session, username: str) -> int:
    """Forget every failure of the user (an administrator's unlock); returns how many there were."""
    return session.execute(delete(LoginFailure).where(LoginFailure.username == username)).rowcount or 0


def delayed_users(session: Session, *, now: datetime) -> set[str]:
    """Users some source of whom is waiting now (shown on the 用户管理 page as 登录受限)."""
    rows = session.execute(
        select(LoginFailure.username, LoginFailure.source, func.count(), func.max(LoginFailure.at))
        .where(LoginFailure.at > now - WINDOW).group_by(LoginFailure.username, LoginFailure.source)
    ).all()
    return {u for u, _, n, last in rows if n >= FREE_FAILURES and _aware(last) + _delay(n) > now}
