"""Are the regenerated files the published ones? The manifest and its check.

The manifest ``published.sha256`` (repository root, committed) lists the
sha256 of every file under ``figures/`` and ``notebooks/executed/`` in the
format of ``sha256sum`` (so ``sha256sum -c published.sha256`` checks it too),
followed by comment lines that record, per network table (7-11), how many
published numbers were ``within-band`` / ``outside-band`` / ``not-run`` and a
digest of the verdict column. ``make manifest`` (``--write``) rewrites it
from the files on disk: the maintainer runs it when publishing regenerated
outputs, and the diff of the manifest shows which files changed.

``python -m mamgd_paper.audit.verify`` (``make verify``; the last step of
``make reproduce``) compares the files on disk with the manifest and prints
``N identical, M differ`` with every differing, missing or new file, and
whether the network tables' verdicts against the paper changed; it exits
with status 1 when anything differs. The check needs the standard library
only (``make verify`` runs it with the system ``python3``).
"""

import argparse
import csv
import hashlib
import os
import sys
from pathlib import Path

from mamgd_paper.core.atomic import write_text

#: The manifest, relative to the repository root.
MANIFEST = "published.sha256"
#: Folders whose every file the manifest lists.
FOLDERS = ("figures", "notebooks/executed")
#: The audit table whose network verdicts the manifest summarises.
AUDIT_TABLE = "figures/tables/paper_vs_reproduced.csv"
NETWORK_TABLES = ("7", "8", "9", "10", "11")
#: The notebooks' records (:mod:`mamgd_paper.runner.inputs`): an unfinished
#: publishing's journal there is named.
RECORDS = "notebooks/records"
_VERDICT_PREFIX = "# verdicts table "


def _sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def published_files(root):
    """Every file under :data:`FOLDERS`, as sorted POSIX paths relative to ``root``
    (hidden files, e.g. a writer's temporary file, excluded)."""
    root = Path(root)
    found = []
    for folder in FOLDERS:
        for path in (root / folder).rglob("*"):
            relative = path.relative_to(root)
            if path.is_file() and not any(part.startswith(".") for part in relative.parts):
                found.append(relative.as_posix())
    return sorted(found)


def network_verdicts(root):
    """``{table: "within-band=N outside-band=M ... digest"}`` for Tables 7-11
    from the audit table, ``{}`` when it does not exist."""
    path = Path(root) / AUDIT_TABLE
    if not path.is_file():
        return {}
    rows = {}
    with open(path, newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            if row["table"] in NETWORK_TABLES:
                rows.setdefault(row["table"], []).append(
                    (row["epoch"], row["optimizer"], row["verdict"]))
    out = {}
    for table in NETWORK_TABLES:
        if table not in rows:
            continue
        cells = sorted(rows[table])
        counts = {}
        for _, _, verdict in cells:
            counts[verdict] = counts.get(verdict, 0) + 1
        digest = hashlib.sha256(repr(cells).encode()).hexdigest()[:16]
        out[table] = " ".join(f"{v}={n}" for v, n in sorted(counts.items())) + f" cells={digest}"
    return out


def manifest_text(root):
    """The manifest of the files now under ``root`` (deterministic: sorted, no dates)."""
    lines = [f"{_sha256(Path(root) / name)}  {name}" for name in published_files(root)]
    lines += [f"{_VERDICT_PREFIX}{table}: {summary}"
              for table, summary in network_verdicts(root).items()]
    return "\n".join(lines) + "\n"


def write_manifest(root):
    """Rewrite ``root/published.sha256`` from the files on disk (atomically)."""
    return write_text(Path(root) / MANIFEST, manifest_text(root))


def read_manifest(path):
    """``(files, verdicts)``: ``{name: sha256}`` and ``{table: summary}``."""
    files, verdicts = {}, {}
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        if line.startswith(_VERDICT_PREFIX):
            table, summary = line[len(_VERDICT_PREFIX):].split(": ", 1)
            verdicts[table] = summary
        elif line.strip() and not line.startswith("#"):
            digest, name = line.split("  ", 1)
            files[name] = digest
    return files, verdicts


def compare(root):
    """Compare the files under ``root`` with its manifest.

    Returns a dict with ``identical`` (count), ``differ``, ``missing``, ``new``
    (sorted lists of names) and ``verdicts`` (``{table: (published, now)}`` for
    the network tables whose verdicts changed).
    """
    root = Path(root)
    manifest = root / MANIFEST
    if not manifest.is_file():
        raise FileNotFoundError(f"{MANIFEST} is missing from {root.name or root}: it is the "
                                "committed manifest (git checkout it, or regenerate the "
                                "outputs with make reproduce).")
    published, published_verdicts = read_manifest(manifest)
    on_disk = set(published_files(root))
    differ = sorted(n for n in published if n in on_disk and _sha256(root / n) != published[n])
    missing = sorted(n for n in published if n not in on_disk)
    new = sorted(on_disk - set(published))
    now = network_verdicts(root)
    verdicts = {t: (published_verdicts.get(t), now.get(t))
                for t in sorted(set(published_verdicts) | set(now), key=int)
                if published_verdicts.get(t) != now.get(t)}
    identical = sum(1 for n in published if n in on_disk) - len(differ)
    from mamgd_paper.runner import publish  # standard library only

    return {"identical": identical, "differ": differ, "missing": missing, "new": new,
            "verdicts": verdicts, "pending": publish.pending(root / RECORDS)}


def summary_lines(result):
    """What :func:`main` prints."""
    bad = len(result["differ"]) + len(result["missing"]) + len(result["new"])
    lines = [f"verify: {result['identical']} identical, {bad} differ "
             f"(files under {' and '.join(FOLDERS)} against {MANIFEST})"]
    lines += [f"  differs: {name}" for name in result["differ"]]
    lines += [f"  missing: {name}" for name in result["missing"]]
    lines += [f"  new (not in the manifest): {name}" for name in result["new"]]
    lines += [f"  unfinished publishing of {name} (cut off after its commit; the next "
              f"notebook run finishes it)" for name in result.get("pending", [])]
    if result["verdicts"]:
        for table, (before, after) in result["verdicts"].items():
            lines.append(f"  Table {table} verdicts against the paper changed: "
                         f"published {before or 'none'}; now {after or 'none'}")
    else:
        lines.append("  network tables 7-11: verdicts against the paper unchanged")
    return lines


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m mamgd_paper.audit.verify",
        description=f"Compare figures/ and notebooks/executed/ with {MANIFEST}.")
    parser.add_argument("--root", default=".", help="the repository root (default: .)")
    parser.add_argument("--write", action="store_true",
                        help=f"rewrite {MANIFEST} from the files on disk instead")
    args = parser.parse_args(argv)
    if args.write:
        path = write_manifest(args.root)
        print(f"wrote {os.path.relpath(path, args.root)}")
        return 0
    try:
        result = compare(args.root)
    except FileNotFoundError as error:
        print(f"verify: {error}", file=sys.stderr)
        return 2
    for line in summary_lines(result):
        print(line)
    return 1 if (len(result["differ"]) + len(result["missing"]) + len(result["new"])
                 + len(result["pending"])) else 0


if __name__ == "__main__":
    sys.exit(main())
