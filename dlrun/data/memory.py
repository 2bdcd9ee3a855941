"""Will the data fit in memory? Estimated from sizes before anything is allocated.

Loading holds about PEAK_COPIES float64 copies of the data at once (the source's arrays, the
train/val/test copies, the standardised tensors), so a request is refused when that estimate
exceeds the memory this machine (or this container) has available now.
"""

import math
import os
from pathlib import Path

BYTES_PER_VALUE = 8  # dlrun.data.splits converts every array to float64
PEAK_COPIES = 3


def available_bytes() -> int:
    """Memory available now: MemAvailable, capped by a cgroup (container) limit when one is set."""
    available = _meminfo_available() or os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    limit = _cgroup_headroom()
    return available if limit is None else min(available, limit)


def _meminfo_available() -> int | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def _cgroup_headroom() -> int | None:
    """memory.max − memory.current of this process's cgroup (v2), or None without a limit."""
    try:
        limit = Path("/sys/fs/cgroup/memory.max").read_text().strip()
        used = int(Path("/sys/fs/cgroup/memory.current").read_text())
    except (OSError, ValueError):
        return None
    return None if limit == "max" else max(int(limit) - used, 0)


def data_bytes(n_values: int) -> int:
    """Peak memory of loading n_values numbers (see PEAK_COPIES)."""
    return n_values * BYTES_PER_VALUE * PEAK_COPIES


def fits(n_values: int) -> bool:
    """Whether loading n_values numbers fits in the memory available now."""
    return data_bytes(n_values) <= available_bytes()


def shortfall(n_values: int) -> str:
    """'about 96 TB of memory (...); 22.7 GB are available' for an error message."""
    return (
        f"about {human_bytes(data_bytes(n_values))} of memory to load ({n_values:,} values "
        f"as float64, {PEAK_COPIES} copies while splitting); {human_bytes(available_bytes())} "
        f"are available"
    )


def human_bytes(n: int) -> str:
    """1234567 -> '1.2 MB' (powers of 1000)."""
    if n < 1000:
        return f"{n} B"
    exponent = min(int(math.log10(n) // 3), 6)
    return f"{n / 1000**exponent:.1f} {'kMGTPE'[exponent - 1]}B"
