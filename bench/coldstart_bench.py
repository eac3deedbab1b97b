"""Cold start: each Lambda handler's import time against `import boto3`, in the same interpreter.

    python bench/coldstart_bench.py [--runs 11] [--limit 1.5] [--code-dir functions]
    make -C functions build-Bench ARTIFACTS_DIR=/tmp/artefact LAMBDA_ARCH=x86_64   # the artefact, for this CPU
    python bench/coldstart_bench.py --code-dir /tmp/artefact --no-site   # imported from it alone, as shipped
    python bench/coldstart_bench.py --code-dir /tmp/artefact --no-site --no-pyc   # ... as if it had no .pyc

What Lambda's init phase does for a handler is import its module (`poll.app`, …). Each measurement is a fresh
subprocess of this interpreter that imports one module with the code directory first on `sys.path` (as Lambda puts
`/var/task`) and the functions' environment (powertools' service and namespace, a region); the runs of all
handlers and of the `import boto3` baseline are interleaved, so a busy machine slows them alike, and the median of
`--runs` is taken. `boto3` is imported from the same place as the handlers' dependencies. Bytecode is never
written while measuring (`PYTHONDONTWRITEBYTECODE`).

The artefact (arm64) cannot be imported on this x86-64 machine: build the same for this CPU and measure it with
`--no-site` (Python's `-S`: nothing but the standard library and the code directory, so a package missing from the
artefact fails the import instead of coming from the venv). `--no-pyc` measures a copy of the code directory
without its `__pycache__` directories, so its modules are compiled from source at each import (the standard
library keeps its `.pyc`): what each cold start did when the artefact shipped no `.pyc` (Lambda's `/var/task` is
read-only, so nothing compiled is kept).

Prints each handler's median import time, wall and CPU (the process's own CPU time, which waiting for a core on
a busy machine does not inflate), and their ratios to boto3's; exits 1 when a CPU ratio is above `--limit`.
"""

from __future__ import annotations

import argparse
import atexit
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HANDLERS = tuple(sorted(f"{app.parent.name}.app" for app in (ROOT / "functions").glob("*/app.py")))
BASELINE = "boto3"
PROBE = (
    "import sys, time; sys.path.insert(0, sys.argv[2]); t, c = time.perf_counter(), time.process_time(); "
    "__import__(sys.argv[1]); print(time.perf_counter() - t, time.process_time() - c)"
)
ENV = {
    "POWERTOOLS_SERVICE_NAME": "seva",
    "POWERTOOLS_METRICS_NAMESPACE": "Seva",
    "AWS_REGION": "ap-south-1",
    "AWS_DEFAULT_REGION": "ap-south-1",
    "PYTHONDONTWRITEBYTECODE": "1",
}


def import_seconds(module: str, code_dir: Path, flags: list[str]) -> tuple[float, float]:
    """Wall and CPU seconds of one import in a new process."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "POWERTOOLS_"))} | ENV
    out = subprocess.run(
        [sys.executable, *flags, "-c", PROBE, module, str(code_dir)],
        env=env,
        cwd="/",
        capture_output=True,
        text=True,
        check=False,
    )
    if out.returncode != 0:
        raise SystemExit(f"importing {module} from {code_dir} failed: {out.stderr.strip().splitlines()[-1]}")
    wall, cpu = out.stdout.split()[-2:]
    return float(wall), float(cpu)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=11, help="fresh subprocesses per module (median taken)")
    parser.add_argument("--limit", type=float, default=1.5, help="highest acceptable ratio to import boto3")
    parser.add_argument("--code-dir", type=Path, default=ROOT / "functions", help="what Lambda has as /var/task")
    parser.add_argument("--handlers", nargs="*", default=list(HANDLERS))
    parser.add_argument("--no-pyc", action="store_true", help="drop the code directory's .pyc (compile at import)")
    parser.add_argument("--no-site", action="store_true", help="python -S: import only from the code directory")
    args = parser.parse_args()
    flags = ["-S"] if args.no_site else []
    code_dir: Path = args.code_dir.resolve()
    if not code_dir.is_dir():
        print(f"no such code directory: {code_dir}", file=sys.stderr)
        return 2
    if args.no_pyc:
        scratch = tempfile.mkdtemp(prefix="coldstart-nopyc-")
        atexit.register(shutil.rmtree, scratch, True)
        copy = Path(scratch) / "code"
        shutil.copytree(code_dir, copy, symlinks=True, ignore=shutil.ignore_patterns("__pycache__"))
        code_dir = copy
    if code_dir == (ROOT / "functions").resolve():  # the source tree: its .pyc up to date, as the artefact's are
        subprocess.run([sys.executable, "-m", "compileall", "-q", str(code_dir)], check=True)
    modules = [BASELINE, *args.handlers]
    for module in modules:  # warm the page cache once, unmeasured
        import_seconds(module, code_dir, flags)
    times: dict[str, list[tuple[float, float]]] = {m: [] for m in modules}
    for _ in range(args.runs):
        for module in modules:
            times[module].append(import_seconds(module, code_dir, flags))
    wall = {m: statistics.median(t[0] for t in runs) for m, runs in times.items()}
    cpu = {m: statistics.median(t[1] for t in runs) for m, runs in times.items()}
    what = ("code without .pyc: compiled at each import" if args.no_pyc else ".pyc present") + (
        ", -S" if args.no_site else ""
    )
    print(f"python {sys.version.split()[0]}, code {code_dir}, {what}, median of {args.runs} fresh processes each")
    print(f"{'import':<12} {'wall ms':>8} {'ratio':>6} {'CPU ms':>8} {'ratio':>6}")
    worst = 0.0
    for module in modules:
        ratio = cpu[module] / cpu[BASELINE]
        if module != BASELINE:
            worst = max(worst, ratio)
        print(
            f"{module:<12} {wall[module] * 1000:>8.0f} {wall[module] / wall[BASELINE]:>6.2f}"
            f" {cpu[module] * 1000:>8.0f} {ratio:>6.2f}{'  > limit' if ratio > args.limit else ''}"
        )
    print(f"worst CPU ratio {worst:.2f} (limit {args.limit})")
    return 1 if worst > args.limit else 0


if __name__ == "__main__":
    sys.exit(main())
