"""When a stored login session still lets its holder in.

Checked on every request (`accounts.actor_for_token`): not revoked, not expired, the
account not disabled."""

from __future__ import annotations

from datetime import datetime

from hnce_cli.errors import AuthRequired

MSG_DISABLED = "此账号已停用，请联系系统管理员"


def session_refusal(expires_at: datetime | None, revoked_at: object, active: object,
                    now: datetime) -> AuthRequired | None:
    """The error a request with this session gets, or None when it may go on."""
    if revoked_at is not None:
        return AuthRequired("已退出登录，请重新登录：hnce login (session revoked)")
    if expires_at is None or expires_at <= now:
        return AuthRequired("登录已过期，请重新登录：hnce login (session expired)")
    if not active:
        return AuthRequired(MSG_DISABLED)
    return None
