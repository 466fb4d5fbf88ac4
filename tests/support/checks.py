"""The check counter of the test scripts, free of numpy and GDAL (environments without them use it too)."""
import sys


class Checks:
    """Counts checks; finish() exits 1 when one failed, 77 (ctest's SKIP_RETURN_CODE) when a part was
    skipped for want of an optional dependency, else 0."""

    def __init__(self):
        self.passed = 0
        self.failed = 0
        self.skipped = []

    def skip(self, what):
        print("SKIP:", what)
        self.skipped.append(what)

    def __call__(self, cond, what):
        if cond:
            self.passed += 1
        else:
            self.failed += 1
            print("FAIL:", what)

    def finish(self):
        print(f"{self.passed} checks passed, {self.failed} failed" + (f", {len(self.skipped)} parts skipped" if self.skipped else ""))
        sys.exit(1 if self.failed else 77 if self.skipped else 0)
