"""Run a file's preview or import in a process of its own, with a memory limit, so the server outlives the file.

The readers refuse files beyond ingest/limits.py, but a reader is native code (calamine, polars, pyarrow): what
a file we did not foresee makes it allocate must end that job, not the server. The child sets RLIMIT_AS to
CHAINATLAS_WORKER_MEMORY_MB, so an allocation past it fails (Python: MemoryError; Rust: the process aborts) and
the job reports a Chinese error while the server goes on. Children come from a fork server that has imported
the import code once, so each starts in a few milliseconds instead of re-importing polars.
"""

from __future__ import annotations

import multiprocessing
import os
import resource
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Any

from chainatlas import config

_CONTEXT: Any = None


class WorkerFailed(RuntimeError):
    """The worker process ended without an answer (killed, out of memory, aborted); the message is Chinese."""


def _context() -> Any:
    global _CONTEXT
    if _CONTEXT is None:
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload(["chainatlas.web.imports_web"])
        _CONTEXT = ctx
    return _CONTEXT


def run(task: Callable[..., Any], *args: Any, progress: Callable[..., None] | None = None) -> Any:
    """task(*args, progress=send) in a child process with the memory limit; its return value, or its exception
    re-raised here (ValueError subclasses keep their Chinese message), or WorkerFailed when it died."""
    limit = config.worker_memory_mb() << 20
    receiver, sender = _context().Pipe(duplex=False)
    child = _context().Process(target=_child, args=(sender, limit, dict(os.environ), task, args), daemon=True)
    child.start()
    sender.close()
    answer: tuple[str, Any] | None = None
    try:
        while answer is None:
            try:
                kind, payload = receiver.recv()
            except EOFError:
                break
            if kind == "progress":
                if progress is not None:
                    progress(*payload)
            else:
                answer = (kind, payload)
    finally:
        receiver.close()
        child.join()
    if answer is None:
        raise WorkerFailed(f"处理文件的进程意外结束（退出码 {child.exitcode}），可能是文件过大或格式异常，"
                           f"超出了 {limit >> 20} MB 的内存上限。请检查文件或拆分后重试。")
    kind, payload = answer
    if kind == "error":
        raise payload
    return payload


def _child(sender: Connection, limit: int, environ: dict[str, str], task: Callable[..., Any], args: tuple) -> None:
    os.environ.clear()  # the fork server's environment is the one it started with: take the server's of now
    os.environ.update(environ)
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    def progress(*values: Any) -> None:
        sender.send(("progress", values))

    try:
        result = task(*args, progress=progress)
    except MemoryError:
        sender.send(("error", WorkerFailed(f"处理文件时内存超出上限（{limit >> 20} MB）。请拆分文件后重试。")))
    except ValueError as exc:  # ReadError, MappingError, ImportProblem …: messages meant for the user
        sender.send(("error", ValueError(str(exc))))
    except Exception as exc:  # noqa: BLE001 — reported on the job's page, the transaction rolled back
        sender.send(("error", WorkerFailed(f"{type(exc).__name__}: {exc}")))
    else:
        sender.send(("ok", result))
    finally:
        sender.close()
