"""The menu of every page, by role: each person sees the pages their role opens."""

from __future__ import annotations

from flask import Flask, request
from flask_login import current_user

# (message key, path) per role, in the order shown.
MENUS: dict[str, tuple[tuple[str, str], ...]] = {
    "interviewer": (("nav.queue", "/console"), ("nav.my_figures", "/console/stats")),
    "manager": (
        ("nav.rounds", "/dashboard"),
        ("nav.trend", "/dashboard/trend"),
        ("nav.flagged", "/dashboard/counter/flagged"),
        ("nav.interviewers", "/console/stats"),
        ("nav.followups", "/followups"),
    ),
    "office": (("nav.followups", "/followups"),),
}
MENUS["admin"] = (
    *MENUS["manager"],
    ("nav.users", "/admin/users"),
    ("nav.scheduler", "/admin/scheduler"),
)


def menu() -> list[dict]:
    """The signed-in user's menu, the entry of the current page marked `current`."""
    if not current_user.is_authenticated:
        return []
    items = MENUS.get(current_user.role, ())
    # The longest path that this page is under is the current entry.
    here = max(
        (path for _, path in items if request.path == path or request.path.startswith(path + "/")),
        key=len,
        default=None,
    )
    return [{"key": key, "path": path, "current": path == here} for key, path in items]


def init_app(app: Flask) -> None:
    app.jinja_env.globals["menu"] = menu
