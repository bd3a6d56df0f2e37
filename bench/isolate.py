"""Run a command as this process's only child and print its wall, CPU and peak RSS as JSON on stderr."""

import json
import resource
import subprocess
import sys
import time

started = time.monotonic()
code = subprocess.run(sys.argv[1:], check=False).returncode
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.dumps({"wall": time.monotonic() - started, "cpu": usage.ru_utime + usage.ru_stime,
                  "peak_rss_mb": usage.ru_maxrss / 1024, "returncode": code}), file=sys.stderr)  # fmt: skip
