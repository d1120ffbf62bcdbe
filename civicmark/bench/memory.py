"""Import one score sheet in a fresh process and report the peak memory it took."""

from __future__ import annotations

import json
import os
import resource
import sys
import time
from pathlib import Path


def _peak_kib() -> int:
    """This process's peak resident memory, in KiB. /proc's VmHWM belongs to the program's own
    address space, which starts empty at exec; ru_maxrss outlives exec, so a child of a large
    process reports its parent's size at the fork (the bench's suite at 10,000 communities:
    326 MB "before" the import had read a row)."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux


def main() -> None:
    path, username = Path(sys.argv[1]), sys.argv[2]
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "civicmark.config.settings")
    import django

    django.setup()
    from civicmark.accounts.models import User
    from civicmark.assessments.sheets import import_sheet

    user = User.objects.get(username=username)
    data = path.read_bytes()
    before = _peak_kib()
    start = time.perf_counter()
    result = import_sheet(actor=user, data=data)
    seconds = time.perf_counter() - start
    peak = _peak_kib()
    print(
        json.dumps(
            {
                "figure": "score sheet import, peak memory",
                "rows": result.saved + result.unchanged,
                "product_s": round(seconds, 1),
                "peak_mb": round(peak / 1024, 1),
                "process_before_mb": round(before / 1024, 1),
                "file_mb": round(len(data) / 1e6, 1),
            }
        )
    )


if __name__ == "__main__":
    main()
