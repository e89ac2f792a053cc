"""Who is acting: the logged-in account with its role and scope."""

from __future__ import annotations

from typing import NamedTuple

from hnce_cli.errors import PermissionDenied
from hnce_cli.terms import ROLES


class Actor(NamedTuple):
    """The caller of a service. Scope is resolved once per request, at login check."""

    account_id: int
    login: str
    name: str
    role: str
    unit_ids: frozenset[int] = frozenset()
    region_code: str | None = None

    def require(self, *roles: str) -> None:
        """Refuse unless the actor has one of `roles` (names the roles in Chinese)."""
        if self.role not in roles:
            allowed = "、".join(ROLES.get(r, r) for r in roles)
            raise PermissionDenied(
                f"只有{allowed}可以执行此操作（当前角色：{ROLES.get(self.role, self.role)}）",
                {"role": self.role, "allowed": list(roles)},
            )

    @property
    def sees_personal_data(self) -> bool:
        """Roles that may see full ID numbers and phones of people in their scope."""
        return self.role in ("system_admin", "unit_admin")
