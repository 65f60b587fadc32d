"""The worker processes of `chainatlas classify --workers N`, and what the command and its workers say to each other.

A UTF-8 CSV is cut into N byte ranges at line starts (`firm_file.byte_ranges`); the command classifies the
first range and one worker process each of the others. Each process runs a single polars thread, so --workers N
uses N cores. Workers are started before the command loads polars (this module does not import it), so that every
process reads its range at about the same moment: the command forks them, and each loads polars itself, as the
command does meanwhile (a process started afresh lagged 0.2–0.3 s behind, importing what the command had already).
Where polars is loaded already (a test or script calling the command in its own process) its threads make a fork
unsafe, and the workers are started afresh as `python -m chainatlas.services.placement.classify_workers`.

The conversation, one line each, over a pipe each way (a fresh worker's stdin and stdout):
  worker → "ROWS QUOTES"  its range is read: how many data rows, and whether it holds an odd count of double quotes
                          (no line: the worker cannot read its range, and the command classifies the file alone)
  command → "FIRST_ROW"    the file row number of the worker's first row, sent once every range before it is known
                          to end outside a quoted cell; no line: stop, the command classifies the file alone
  worker → JSON            the figures of its part once placed (`firm_file.place_part`), with the length of its
                          CSV rows in "bytes"
  command → JSON           {"path", "offset"}: where the part goes in the output, sent as soon as the parts before it
                          are placed (the first worker's, once the command's own is); no line: stop
  worker → "written"       the part is in the output
Every process writes its own part into the output file at the same time as the others: a part piped to the command
waited for the command's own to be written and was then copied once more.
"""

from __future__ import annotations

import atexit
import gc
import json
import os
import signal
import subprocess
import sys
import threading
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import NoReturn, TextIO

# One polars thread per process; polars' allocator (jemalloc) keeps the pages it frees for reuse in a one-shot pass
# instead of returning them to the system and faulting them in again (≈ 90,000 page faults, 0.5 s of a 1M-record
# run here). Both are read when polars loads. numpy (the learned layer's inference) gets one OpenBLAS thread: its
# pool's idle threads spin at start-up beside the work (≈ 0.08 s of CPU per process here, on the same core when
# pinned), and the inference uses no BLAS routine that would gain from them.
# polars' CSV reader parses the file in 2 MiB chunks, whose buffers are then reused: with its default chunks the
# whole file's bytes were resident beside the columns made of them (200,000 registry rows: 67,000 → 37,000 page
# faults while reading, 0.19 → 0.10 s of system time here; the chunk size does not change the rows read).
ONE_PASS_ENV = {"POLARS_MAX_THREADS": "1", "_RJEM_MALLOC_CONF": "dirty_decay_ms:-1,muzzy_decay_ms:-1",
                "OPENBLAS_NUM_THREADS": "1", "POLARS_CSV_CHUNK_SIZE": str(2 << 20)}
# A range is ≥ 32 MiB (≈ 90,000 registry rows, ≈ 0.4 s of one process's work): a worker's start (≈ 0.3 s of a core
# to load polars) and the join ate the whole gain on an 18 MB file here, while a 73 MB file ran 1.3× faster.
MIN_PART_BYTES = 32 << 20


def one_pass_process() -> None:
    """Set up a process that classifies one file and exits (the classify command's and every worker's), before it
    loads polars: ONE_PASS_ENV where the user has not set those variables, and no cyclic garbage collector (the
    pass builds no reference cycles; outside the batch engine's own pause the collector ran 129 times over a
    million rows, for nothing), nor at exit. A process that has loaded polars already (a test, a script calling the
    command) is not ours to set up, and is left as it is."""
    if "polars" in sys.modules:
        return
    for name, value in ONE_PASS_ENV.items():
        os.environ.setdefault(name, value)
    gc.disable()
    # At exit the interpreter's last collection walks every object left (polars' modules, the chain, the caches):
    # ≈ 0.05 s of a 200,000-row run here. Frozen objects are not walked; the process ends right after.
    atexit.register(gc.freeze)


def available_cores() -> int:
    """The CPU cores this process may run on."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def parts_of(path: Path, workers: int) -> int:
    """In how many byte ranges a file is classified: one per worker, each at least MIN_PART_BYTES; a file that is
    not CSV is read whole (its rows may still be dealt out to worker processes after reading)."""
    if workers <= 1 or path.suffix.lower() not in (".csv", ".txt") or not path.is_file():
        return 1
    return max(1, min(workers, path.stat().st_size // MIN_PART_BYTES))


class WorkerFailed(RuntimeError):
    """A worker process ended without writing its part."""


class _Forked:
    """A worker forked from this process, with what `PartWorker` uses of a `subprocess.Popen`: pid, stdin and
    stdout (the pipes to and from it), returncode, poll, wait, kill."""

    def __init__(self, args: list[str], others: list[PartWorker]) -> None:
        to_worker, commands = os.pipe()
        replies, from_worker = os.pipe()
        self.pid = os.fork()
        if self.pid == 0:
            # the earlier workers' pipes too: their ends must be the command's alone, or a worker never hears EOF
            mine = [commands, replies, *(p.fileno() for w in others for p in (w.process.stdin, w.process.stdout) if p)]
            _run_worker(args, to_worker, from_worker, mine)
        os.close(to_worker)
        os.close(from_worker)
        self.stdin: TextIO | None = open(commands, "w", encoding="utf-8")
        self.stdout: TextIO | None = open(replies, encoding="utf-8")
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self.returncode = os.waitstatus_to_exitcode(status)
        return self.returncode

    def wait(self) -> int:
        if self.returncode is None:
            self.returncode = os.waitstatus_to_exitcode(os.waitpid(self.pid, 0)[1])
        return self.returncode

    def kill(self) -> None:
        if self.poll() is None:
            os.kill(self.pid, signal.SIGKILL)


@dataclass
class PartWorker:
    """One worker process."""

    process: subprocess.Popen | _Forked
    done: bool = False  # its part is written

    def report(self) -> tuple[int, int] | None:
        """(data rows, odd quotes 0/1) of the worker's range once read; None when it could not read it."""
        words = self.process.stdout.readline().split()  # type: ignore[union-attr]
        return (int(words[0]), int(words[1])) if len(words) == 2 else None

    def _say(self, line: str, last: bool) -> bool:
        """Send the worker a line; False when it is gone."""
        try:
            self.process.stdin.write(f"{line}\n")  # type: ignore[union-attr]
            if last:
                self.process.stdin.close()  # type: ignore[union-attr]
            else:
                self.process.stdin.flush()  # type: ignore[union-attr]
        except BrokenPipeError:
            return False
        return True

    def start_at(self, first_row: int) -> bool:
        """Tell the worker its first row number; False when it is gone."""
        return self._say(str(first_row), last=False)

    def write_at(self, path: Path, offset: int) -> None:
        """Tell the worker where its part goes: into `path` from byte `offset` (a worker that is gone shows in
        `figures` or `written`)."""
        self._say(json.dumps({"path": str(path), "offset": offset}), last=True)

    def figures(self) -> dict | None:
        """The part's figures once placed; None if the worker failed."""
        line = self.process.stdout.readline()  # type: ignore[union-attr]
        return json.loads(line) if line.strip() else None

    def written(self) -> bool:
        """Whether the worker has written its part (it may still be exiting)."""
        self.done = self.process.stdout.readline().strip() == "written"  # type: ignore[union-attr]
        return self.done

    def failure(self) -> WorkerFailed:
        """The error of a worker that ended without its part, once it has exited."""
        self.process.wait()
        return WorkerFailed(f"挂链子进程失败，退出码 {self.process.returncode} (classify worker failed)")


@dataclass
class PartWorkers:
    """Workers 1…N-1 of a file cut in N ranges (the command takes range 0); as a context manager, no worker
    outlives it."""

    parts: int
    workers: list[PartWorker] = field(default_factory=list)

    def __enter__(self) -> PartWorkers:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        """End every worker that has not written its part (the command classifies the file alone, or it failed),
        and wait for all."""
        for worker in self.workers:
            if not worker.done and worker.process.poll() is None:
                worker.process.kill()
            worker.process.wait()
            for pipe in (worker.process.stdin, worker.process.stdout):
                if pipe and not pipe.closed:
                    pipe.close()


def _single_threaded() -> bool:
    """Whether this process runs no thread but the calling one, native threads included: a fork copies only the
    calling thread, and a lock another thread held stays locked in the child."""
    try:
        return len(os.listdir("/proc/self/task")) == 1
    except OSError:  # no /proc: Python's own threads are all one can see
        return threading.active_count() == 1


def start_part_workers(path: Path, chain_path: str, mapping_file: Path | None, parts: int) -> PartWorkers:
    """Start the workers of ranges 1…parts-1; each works out the file's layout and ranges as the command does."""
    started = PartWorkers(parts)
    fork = hasattr(os, "fork") and "polars" not in sys.modules and _single_threaded()
    for k in range(1, parts):
        args = [chain_path, str(path), str(mapping_file or ""), str(k), str(parts)]
        if fork:
            process: subprocess.Popen | _Forked = _Forked(args, started.workers)
        else:
            process = subprocess.Popen([sys.executable, "-m", __name__, *args], stdin=subprocess.PIPE,
                                       stdout=subprocess.PIPE, text=True, encoding="utf-8")
        started.workers.append(PartWorker(process))
    return started


def _run_worker(args: list[str], said: int, saying: int, close: list[int]) -> NoReturn:
    """Be a worker, hearing the command on file descriptor `said` and answering on `saying`, and end the process:
    a forked worker must never return into the command's code, whatever happens. `close`: descriptors that are
    the command's."""
    code = 1
    try:
        # Ctrl+C reaches the command too, which cleans up: a worker just ends (at once, or inside a polars query
        # by polars' own handler as a KeyboardInterrupt).
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        for fd in close:
            os.close(fd)
        with open(said, encoding="utf-8") as hearing, open(saying, "w", encoding="utf-8") as answering:
            _work(*args, hearing, answering)
        code = 0
    except KeyboardInterrupt:
        pass
    except BaseException:  # noqa: BLE001 — the command reports a failed worker by its exit code; the cause goes to stderr
        traceback.print_exc()
    finally:
        os._exit(code)  # a finished worker skips the interpreter's teardown of its objects (≈ 0.2 s of a core)


def _work(chain_path: str, path: str, mapping: str, k: str, parts: str, said: TextIO, saying: TextIO) -> None:
    """A worker's side of the conversation."""
    one_pass_process()
    from chainatlas.domain.chain import load_chain
    from chainatlas.services.placement import firm_file  # polars loads here, set up for one pass

    read = firm_file.read_range(Path(path), Path(mapping) if mapping else None, int(k), int(parts))
    if read is None:
        return
    print(read.raw.height, read.quotes % 2, file=saying, flush=True)
    first_row = said.readline()
    if not first_row:
        return
    part = firm_file.place_part(read, int(first_row), load_chain(chain_path))
    print(json.dumps(part.figures | {"bytes": firm_file.csv_bytes(part.rows, header=False)}), file=saying,
          flush=True)
    where = said.readline()
    if not where:
        return
    target = json.loads(where)
    firm_file.write_part(part, Path(target["path"]), target["offset"])
    print("written", file=saying, flush=True)


if __name__ == "__main__":
    _run_worker(sys.argv[1:6], sys.stdin.fileno(), sys.stdout.fileno(), [])
