"""Classify the firms of a file (CSV / XLSX / Parquet) onto a chain and write the placements as CSV: the work
behind `chainatlas classify`, no database.

The output appears whole or not at all. With several workers a UTF-8 CSV is cut into byte ranges at line starts;
this process reads, places and writes the first range while a worker process (`classify_workers`) each does another
and writes its placements into the output where the parts before it end: byte for byte the one-process file. How a
file is read, placed and written, whole or by range, is `firm_file`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from chainatlas.domain.chain import Chain
from chainatlas.engines.classify_batch import BatchClassifier, classify_frame_parallel, processes_for
from chainatlas.services.placement.classify_workers import PartWorkers, WorkerFailed
from chainatlas.services.placement.firm_file import (
    csv_bytes,
    input_frame,
    place_part,
    read_range,
    read_rows,
    write_placements,
    write_rows,
)


@dataclass(frozen=True)
class Summary:
    """What `classify_file` did: firms read, firms placed, placement rows written, processes that did it."""

    firms: int
    placed: int
    rows: int
    processes: int


def classify_file(path: Path, chain: Chain, out: Path, workers: int, mapping_file: Path | None = None,
                  part_workers: PartWorkers | None = None) -> Summary:
    """Place the firms of `path` on `chain` and write the placements to `out`, which appears whole or not at all
    (a file already there is replaced only by a finished output).

    part_workers: the workers of the file's byte ranges, started by the caller (`start_part_workers`); when the
    file cannot be cut safely (a title above the header, a quoted cell across a cut) it is read whole here and,
    with several workers, its rows are dealt out to worker processes (`classify_frame_parallel`)."""
    out = Path(out)
    partial = out.with_name(f".{out.name}.partial")
    try:
        try:
            done = _classify_in_parts(path, chain, partial, part_workers, mapping_file) if part_workers else None
            if done is None:
                headers, raw = read_rows(path, mapping_file)
                processes = processes_for(raw.height, workers)
                # placed here: the classifier reads the raw scopes as the frame is made (`input_frame`)
                classifier = BatchClassifier(chain, csv_evidence=True) if processes == 1 else None
                frame = input_frame(path, headers, raw, mapping_file, classifier)
                del raw  # (scanned, the scopes' text is freed before placing: polars reuses its memory)
                rows, placed = write_placements(partial, classifier.classify_frame(frame) if classifier else
                                                classify_frame_parallel(chain, frame, workers, csv_evidence=True))
                done = Summary(frame.height, placed, rows, processes)
            partial.replace(out)
        finally:
            partial.unlink(missing_ok=True)
    except KeyboardInterrupt:
        # A Ctrl+C that came while this process was in native code (polars, the kernel) is raised at its next
        # Python call, which can be the cleanup above when the same Ctrl+C has just ended a worker; raised once, it
        # cannot interrupt this one (a test found the partial output left behind in 2 of 10 runs without it).
        partial.unlink(missing_ok=True)
        raise
    return done


def _classify_in_parts(path: Path, chain: Chain, out: Path, part_workers: PartWorkers, mapping_file: Path | None
                       ) -> Summary | None:
    """The file classified in byte ranges: this process the first, the workers the others, each writing its part
    into `out` where the parts before it end. None (the workers stopped) when the file cannot be split safely: a
    range could not be read, or a quoted cell spans a cut.

    Row numbers ("第N行" ids) need the rows before each range: every worker reports its row count once read and
    waits for its first row number before going on. A part's place in the output needs the length of the parts
    before it, which `csv_bytes` gives before they are written: this process and the first worker write at the
    same time (a part written after another took 0.3 s of 1M records, 1.1 s of 4M, here)."""
    mine = read_range(path, mapping_file, 0, part_workers.parts)
    if mine is None or mine.ranges < 2:
        part_workers.stop()
        return None
    workers = part_workers.workers[: mine.ranges - 1]
    first_data_row = mine.layout.header_row + 2
    first_row, quotes = first_data_row + mine.raw.height, mine.quotes
    # A worker gets its first row once the ranges before it are read and whole (an even count of quotes before
    # it); the last worker's own report is not needed for that, so this process places its range meanwhile.
    for k, worker in enumerate(workers):
        report = workers[k - 1].report() if k else (0, 0)
        if report is None or (quotes + report[1]) % 2 or not worker.start_at(first_row + report[0]):
            part_workers.stop()
            return None
        first_row, quotes = first_row + report[0], quotes + report[1]
    own = place_part(mine, first_data_row, chain)
    if workers[-1].report() is None:
        part_workers.stop()
        return None
    figures, offset = [own.figures], csv_bytes(own.rows, header=True)
    with open(out, "wb") as target:  # there before a worker opens it
        workers[0].write_at(out, offset)
        write_rows(own.rows, target, header=True)
    for k, worker in enumerate(workers):
        figures.append(worker.figures())
        if figures[-1] is None:
            raise worker.failure()
        offset += figures[-1]["bytes"]
        if k + 1 < len(workers):
            workers[k + 1].write_at(out, offset)
    for worker in workers:
        if not worker.written():
            raise worker.failure()
    if out.stat().st_size != offset:  # a part longer or shorter than reckoned would have overwritten another
        raise WorkerFailed(f"挂链输出长度 {out.stat().st_size} 与各部分之和 {offset} 不符 (parts do not add up)")
    placed = [f for f in figures if f["rows"]]
    # A firm whose rows end one part and start the next (the same id on both sides) counts once, as in one part.
    firms = sum(f["firms"] for f in placed) - sum(a["last"] == b["first"] for a, b in zip(placed, placed[1:]))
    return Summary(sum(f["height"] for f in figures), firms, sum(f["rows"] for f in figures), len(figures))
