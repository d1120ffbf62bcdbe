"""Import one score sheet in a fresh process and report the peak memory it took."""

from __future__ import annotations

import json
import os
import resource
import sys
import time
from pathlib import Path


def main() -> None:
    path, username = Path(sys.argv[1]), sys.argv[2]
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "civicmark.config.settings")
    import django

    django.setup()
    from civicmark.accounts.models import User
    from civicmark.assessments.sheets import import_sheet

    user = User.objects.get(username=username)
    data = path.read_bytes()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    start = time.perf_counter()
    result = import_sheet(actor=user, data=data)
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
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
