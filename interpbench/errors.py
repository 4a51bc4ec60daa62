"""Errors a user can cause. The CLI prints them as one line and exits non-zero."""

from __future__ import annotations

import contextlib
import difflib
import signal
import threading


class InterpbenchError(Exception):
    """Base class: a problem with the user's input or environment, not a bug."""


class PluginError(InterpbenchError):
    """A plugin failed to load or registered something invalid (strict mode)."""


class UnknownName(InterpbenchError, KeyError):
    def __init__(self, kind: str, name: str, available: list[str]) -> None:
        self.kind, self.name, self.available = kind, name, available
        close = difflib.get_close_matches(name, available, n=3)
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        shown = ", ".join(available[:12]) + (", ..." if len(available) > 12 else "")
        super().__init__(f"unknown {kind} {name!r}{hint} (available: {shown or 'none'})")

    def __str__(self) -> str:  # KeyError would quote the message
        return self.args[0]


class ConfigError(InterpbenchError):
    """A method or run parameter that does not validate."""


class CaseNotCompilable(InterpbenchError):
    """tracr cannot compile this case."""


class PluginFailed(InterpbenchError):
    """A plugin's code raised while running (its loader, method or metric)."""


class UserInterrupt(BaseException):
    """A Ctrl-C from the user while plugin code runs (as opposed to plugin code raising
    ``KeyboardInterrupt`` itself, which is that plugin's failure)."""


@contextlib.contextmanager
def user_interrupts_apart():
    """While plugin code runs, a real SIGINT raises ``UserInterrupt``, so that a plugin raising
    ``KeyboardInterrupt`` can be reported by name and a user's Ctrl-C still stops us. (Only in
    the main thread, and only where nobody else handles SIGINT.)"""
    if (
        threading.current_thread() is not threading.main_thread()
        or signal.getsignal(signal.SIGINT) is not signal.default_int_handler
    ):
        yield
        return

    def interrupted(signum, frame):
        raise UserInterrupt

    signal.signal(signal.SIGINT, interrupted)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, signal.default_int_handler)
