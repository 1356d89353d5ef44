"""Child processes that die with their parent.

A worker process started by the service (batch pool workers, the screening sandbox) must not
outlive it: after a ``kill -9`` of the service nobody would ever stop them. On Linux the kernel
does it for us: ``prctl(PR_SET_PDEATHSIG, SIGKILL)`` in the child asks for SIGKILL when the
thread that created it exits. Elsewhere a watchdog thread polls the parent's pid.

Mind the Linux semantics: the signal follows the *thread* that started the child, so start
children from a thread that lives as long as they should (not a pool thread that may retire).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import signal
import sys
import threading
import time

_PR_SET_PDEATHSIG = 1


def die_with_parent(parent_pid: int | None = None) -> None:
    """Call first thing in a child process: it is killed when its parent dies.

    ``parent_pid`` is the pid the child expects as its parent (to close the race in which the
    parent died before this call); by default the current parent.
    """
    expected = parent_pid if parent_pid is not None else os.getppid()
    if sys.platform.startswith("linux") and _prctl_deathsig():
        if os.getppid() != expected:  # the parent was already gone when we asked
            os._exit(1)
        return
    threading.Thread(target=_watch, args=(expected,), name="redline-parent-watch",
                     daemon=True).start()


def _prctl_deathsig() -> bool:
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        return int(libc.prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)) == 0
    except (OSError, AttributeError):  # pragma: no cover - not glibc
        return False


def _watch(parent_pid: int) -> None:  # pragma: no cover - non-Linux fallback
    while os.getppid() == parent_pid:
        time.sleep(1.0)
    os._exit(1)
