"""``python -m tests.spark_run.imports_of CODE``: run CODE in a fresh interpreter (what it imports
is then what CODE's modules import)."""

import sys

if __name__ == "__main__":
    exec(sys.argv[1])
