"""Peak memory of a process and its descendants, sampled from ``/proc`` while they run.

Why not ``getrusage(RUSAGE_CHILDREN).ru_maxrss``: Linux keeps a process's RSS high-water mark
across ``exec``, and ``subprocess`` starts a child by (v)forking the *calling* process first, so
the child's ``ru_maxrss`` is at least the caller's own peak at that moment — a bench process that
had just generated a large CSV reported 800 MB–1.1 GB for an import whose processes never held
more than ~550 MB together. ``RUSAGE_CHILDREN`` is also the maximum over *every* child reaped so
far and never a sum, so it can neither add the import's parent and its worker up nor forget an
earlier child. (Reproduce: allocate 600 MB, ``subprocess.run(["true"])``: ru_maxrss ≈ 613 MB.)

Here, every ``interval`` seconds, the tree below ``root`` is found by parent pid in
``/proc/*/stat`` and, per process, ``VmHWM`` (its own high-water mark since its exec/fork, exact
even between samples) and ``VmRSS`` are read from ``/proc/<pid>/status`` and ``Pss`` from
``/proc/<pid>/smaps_rollup``. Reported:

* ``peak_rss_mb`` — the largest **sum of RSS over the tree** seen in one sample. Pages a forked
  worker still shares with its parent (copy-on-write) count twice, so this is an upper bound; it
  is the figure held against the budget.
* ``peak_pss_mb`` — the largest sum of proportional set sizes (shared pages divided among the
  processes sharing them): what the tree costs the machine.
* ``peak_process_rss_mb`` — each process's own ``VmHWM``: ``import`` for the root, ``child-N``
  for the cleaner workers and any other descendant.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any


def _ppid(pid: str) -> int | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # "pid (comm) state ppid …": comm may hold spaces and parentheses, so split after the last ")".
    return int(stat[stat.rindex(")") + 2 :].split()[1])


def _kb(path: str, fields: tuple[str, ...]) -> dict[str, int]:
    found: dict[str, int] = {}
    try:
        with open(path) as handle:
            for line in handle:
                name, _, rest = line.partition(":")
                if name in fields:
                    found[name] = int(rest.split()[0])
    except (OSError, ValueError):
        pass
    return found


class TreeMemory:
    """Samples the memory of ``root`` and its descendants on a thread until ``stop()``."""

    def __init__(self, root: int, interval: float = 0.1) -> None:
        self.root, self.interval = root, interval
        self.peak_rss_kb = 0
        self.peak_pss_kb = 0
        self.hwm_kb: dict[int, int] = {}  # pid -> VmHWM
        self.samples = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="tree-memory", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def _tree(self) -> list[int]:
        children: dict[int, list[int]] = {}
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                parent = _ppid(entry)
                if parent is not None:
                    children.setdefault(parent, []).append(int(entry))
        tree, todo = [], [self.root]
        while todo:
            pid = todo.pop()
            tree.append(pid)
            todo += children.get(pid, [])
        return tree

    def sample(self) -> None:
        rss = pss = 0
        for pid in self._tree():
            status = _kb(f"/proc/{pid}/status", ("VmRSS", "VmHWM"))
            if not status:
                continue  # already gone
            rss += status.get("VmRSS", 0)
            pss += _kb(f"/proc/{pid}/smaps_rollup", ("Pss",)).get("Pss", 0)
            self.hwm_kb[pid] = max(self.hwm_kb.get(pid, 0), status.get("VmHWM", 0))
        self.peak_rss_kb = max(self.peak_rss_kb, rss)
        self.peak_pss_kb = max(self.peak_pss_kb, pss)
        self.samples += 1

    def _run(self) -> None:
        while not self._stop.is_set():
            self.sample()
            self._stop.wait(self.interval)

    def summary(self) -> dict[str, Any]:
        per_process = {"import": self.hwm_kb.get(self.root, 0)}
        workers = sorted(pid for pid in self.hwm_kb if pid != self.root)
        per_process |= {f"child-{i}": self.hwm_kb[pid] for i, pid in enumerate(workers, start=1)}
        return {
            "peak_rss_mb": round(self.peak_rss_kb / 1024, 1) or None,
            "peak_pss_mb": round(self.peak_pss_kb / 1024, 1) or None,
            "peak_process_rss_mb": {k: round(v / 1024, 1) for k, v in per_process.items()},
            "memory_samples": self.samples,
            "memory_method": "sum over the process tree, sampled from /proc every "
            f"{self.interval} s (bench/process_memory.py)",
        }
