"""The Lambda artefact: its size unzipped and zipped, what it holds, and whether it ships compiled bytecode.

    python bench/artefact_bench.py [--build] [--build-dir .aws-sam/build]

`--build` runs `make build` (sam validate --lint + sam build, python3.13) first; without it, the last build is
measured. For each function's artefact it prints the unzipped size (what Lambda's 250 MB limit counts), the
zipped size (deflate, as `sam deploy` uploads it), the number of `.py` files with and without a `.pyc` built for
the runtime's Python (cpython-313), the largest top-level entries, and the packages that must not be there
(setuptools/pkg_resources, the X-Ray SDK, twitter-text, full phonenumbers). Exits 1 when one of those is present
or a module lacks its `.pyc`.
"""

from __future__ import annotations

import argparse
import io
import os
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
UNWANTED = {
    "setuptools": "setuptools",
    "pkg_resources": "pkg_resources (setuptools)",
    "_distutils_hack": "setuptools' distutils hack",
    "aws_xray_sdk": "the X-Ray SDK",
    "twitter_text": "twitter-text-parser",
    "phonenumbers/geodata": "phonenumbers' geocoder data (use phonenumberslite)",
    "phonenumbers/carrierdata": "phonenumbers' carrier data (use phonenumberslite)",
}
PYC_TAG = "cpython-313"


def tree_size(path: Path) -> tuple[int, list[Path]]:
    files = [p for p in path.rglob("*") if p.is_file()]
    return sum(p.stat().st_size for p in files), files


def zipped_size(root: Path, files: list[Path]) -> int:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for file in files:
            archive.write(file, file.relative_to(root))
    return buffer.tell()


def missing_pyc(files: list[Path]) -> tuple[int, int]:
    sources = [p for p in files if p.suffix == ".py"]
    compiled = {p for p in files if p.suffix == ".pyc" and p.parent.name == "__pycache__"}
    missing = [s for s in sources if s.parent / "__pycache__" / f"{s.stem}.{PYC_TAG}.pyc" not in compiled]
    return len(sources), len(missing)


def mb(size: int) -> str:
    return f"{size / 1e6:.1f} MB"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build", action="store_true", help="run `make build` (sam build) first")
    parser.add_argument("--build-dir", type=Path, default=ROOT / ".aws-sam" / "build")
    parser.add_argument("--top", type=int, default=8, help="largest top-level entries to list")
    args = parser.parse_args()
    if args.build:
        subprocess.run(["make", "-C", str(ROOT), "build"], check=True, env=os.environ.copy())
    bad = False
    seen: dict[tuple[int, int], str] = {}
    functions = sorted(p.name for p in args.build_dir.iterdir() if p.is_dir()) if args.build_dir.is_dir() else []
    if not functions:
        print(f"no artefacts in {args.build_dir} (run with --build, or make build)", file=sys.stderr)
        return 2
    for function in functions:
        root = args.build_dir / function
        if not root.is_dir():
            print(f"{function}: no artefact at {root} (run with --build, or make build)", file=sys.stderr)
            return 2
        size, files = tree_size(root)
        sources, missing = missing_pyc(files)
        key = (size, len(files))
        if key in seen:  # one CodeUri: every function ships the same package
            print(f"{function}: same artefact as {seen[key]} ({mb(size)} unzipped, {len(files)} files)")
            continue
        seen[key] = function
        zipped = zipped_size(root, files)
        print(f"{function}: {mb(size)} unzipped, {mb(zipped)} zipped, {len(files)} files")
        print(f"  .py files {sources}, without a {PYC_TAG} .pyc: {missing}")
        entries = sorted(
            ((tree_size(p)[0] if p.is_dir() else p.stat().st_size, p.name) for p in root.iterdir()), reverse=True
        )
        print("  largest: " + ", ".join(f"{name} {mb(s)}" for s, name in entries[: args.top]))
        present = [label for rel, label in UNWANTED.items() if (root / rel).exists()]
        print("  unwanted: " + (", ".join(present) if present else "none"))
        bad = bad or bool(present) or missing > 0
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
