"""The one exception hierarchy of plantwatch.

The library raises these; only the CLI and the web app translate them (exit code 2 for
``InputError``, HTTP 4xx in the web app). Messages name the field, the bad value and what is
allowed, on one line, so they can be shown to a user as they are.
"""

from __future__ import annotations

__all__ = ["DataError", "DependencyError", "InputError", "PlantwatchError"]


class PlantwatchError(Exception):
    """Base of every error plantwatch raises on purpose."""


class InputError(PlantwatchError, ValueError):
    """A user-supplied value (file, option, field) is invalid.

    Parameters
    ----------
    message
        One line: what is wrong and how to fix it.
    field
        Dotted path of the offending field (``leak.rate_g_s``), when there is one.
    """

    def __init__(self, message: str, field: str | None = None) -> None:
        self.field = field
        super().__init__(f"{field}: {message}" if field else message)


class DataError(PlantwatchError):
    """Shipped or stored data is missing or corrupt (a packaging or storage fault)."""


class DependencyError(PlantwatchError, ImportError):
    """An optional dependency (Ray, ONNX Runtime, PhiFlow …) is needed but not installed."""


def require(module: str, extra: str) -> object:
    """Import an optional dependency lazily, with an actionable message when it is missing."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise DependencyError(
            f"{module} is not installed; install it with: pip install -e '.[{extra}]'"
        ) from exc


# the store's errors (plantwatch.store; issue 7)
__all__ += ["ImmutableError", "NotFound", "PermissionDenied"]


class ImmutableError(PlantwatchError):
    """An attempt to change or delete an append-only record (approved plan, completed checklist
    run, flight log entry, audit entry); record a new one instead."""


class PermissionDenied(PlantwatchError):
    """The acting user's role does not allow the action (the web app answers HTTP 403)."""


class NotFound(PlantwatchError, LookupError):
    """A stored object (user, site, plan, photo …) with the given id does not exist (HTTP 404)."""
