"""The work a ground-truth Slurm job does, and its own record of what it used (standard library only).

``python slurm_payload.py OUT [--cores N] [--cpu-seconds T] [--hold-mib M] [--hold-seconds S] [--exit C]
[--sleep S]`` burns ``T`` seconds of CPU time on each of ``N`` processes (CPU time, not wall time: the figure stays
exact on a busy machine), holds ``M`` MiB of touched memory for ``S`` seconds, sleeps, then exits with ``C``. It
writes JSON to ``OUT`` (``OUT.progress`` while burning, every 0.2 s) with the CPU seconds it and its children used
(``getrusage``), its peak resident memory and what it was asked to do, so a test compares Slurm's figures with
what really happened. Several tasks of one step (``srun -n 2``) each write ``OUT.<task id>``.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import resource
import sys
import time
from pathlib import Path


def _burn(seconds: float, progress: str | None) -> None:
    start = time.process_time()
    last = 0.0
    while (used := time.process_time() - start) < seconds:
        if progress and used - last >= 0.2:
            last = used
            Path(progress).write_text(json.dumps({"cpu_seconds": used, "at": time.time()}))


def _cpu(who: int) -> float:
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("out")
    parser.add_argument("--cores", type=int, default=1)
    parser.add_argument("--cpu-seconds", type=float, default=0.0)
    parser.add_argument("--hold-mib", type=int, default=0)
    parser.add_argument("--hold-seconds", type=float, default=0.0)
    parser.add_argument("--sleep", type=float, default=0.0)
    parser.add_argument("--exit", type=int, default=0)
    args = parser.parse_args()
    task = os.environ.get("SLURM_PROCID")
    out = f"{args.out}.{task}" if os.environ.get("SLURM_STEP_NUM_TASKS", "1") != "1" else args.out
    began = time.time()
    record: dict[str, object] = {"asked": vars(args), "job_id": os.environ.get("SLURM_JOB_ID"),
                                 "gpus": os.environ.get("CUDA_VISIBLE_DEVICES"), "started": began}
    Path(out + ".started").write_text(json.dumps(record))
    if args.cpu_seconds:
        progress = out + ".progress" if args.cores == 1 else None
        workers = [multiprocessing.Process(target=_burn, args=(args.cpu_seconds, progress))
                   for _ in range(args.cores)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
    if args.hold_mib:
        block = bytearray(args.hold_mib * 1024 * 1024)
        for i in range(0, len(block), 4096):
            block[i] = 1
        time.sleep(args.hold_seconds)
        del block
    time.sleep(args.sleep)
    record.update({
        "cpu_seconds": _cpu(resource.RUSAGE_SELF) + _cpu(resource.RUSAGE_CHILDREN),
        "max_rss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
        "wall_seconds": time.time() - began, "exit": args.exit,
    })
    Path(out).write_text(json.dumps(record))
    sys.exit(args.exit)


if __name__ == "__main__":
    main()
