"""The pairs of paired mode: one from GENERATED --reference REAL, many from a manifest (`read_pairs`: CSV with
the columns generated,reference[,law] or a JSON list of such objects; paths relative to the manifest)."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from pathlib import Path

from realitygap.clip.fit import clip_law
from realitygap.runtime.errors import InputError

MAX_MANIFEST_BYTES = 16 * 2**20
MANIFEST_COLUMNS = ("generated", "reference", "law")


@dataclass(frozen=True)
class PairSpec:
    """One pair of a manifest: generated and reference videos (resolved), the law, and where it was given."""

    generated: Path
    reference: Path
    law: str
    where: str


def pair_specs(generated: Path | None, reference: Path | None, manifest: Path | None, law: str | None) -> list[PairSpec]:
    """The pairs the command line names: GENERATED --reference REAL (with --law), or --pairs FILE."""
    if manifest is not None:
        if reference is not None or generated is not None:
            raise InputError("give either GENERATED --reference REAL or --pairs FILE, not both")
        return read_pairs(manifest, law)
    if generated is None or reference is None:
        raise InputError("paired mode needs the generated clip and the real take: measure-clip GENERATED --reference REAL")
    if law is None:
        raise InputError("paired mode needs --law LAW (drop, projectile, bounce, pendulum, slide)")
    clip_law(law)
    return [PairSpec(Path(generated), Path(reference), law, "")]


def read_pairs(manifest: Path, default_law: str | None) -> list[PairSpec]:
    """The pairs a manifest lists: CSV with a header generated,reference[,law], or a JSON list of objects with those
    keys; paths relative to the manifest's folder; a row without a law takes `default_law`. InputError, naming the
    row, for anything unusable."""
    manifest = Path(manifest)
    text = _read_manifest_text(manifest)
    rows = _json_rows(manifest, text) if manifest.suffix.lower() == ".json" else _csv_rows(manifest, text)
    if not rows:
        raise InputError(f"--pairs {manifest.name}: no pairs listed")
    pairs = []
    for where, row in rows:
        law = row.get("law") or default_law
        if not law:
            raise InputError(f"--pairs {manifest.name} {where}: no law (give --law or a law column)")
        try:
            clip_law(law)
        except InputError:
            raise InputError(f"--pairs {manifest.name} {where}: law {law[:40]!r} is not one of the laws measure-clip fits "
                             "(drop, projectile, bounce, pendulum, slide)") from None
        pairs.append(PairSpec(_manifest_path(manifest, where, "generated", row.get("generated")),
                              _manifest_path(manifest, where, "reference", row.get("reference")), law, where))
    return pairs


# --- per-law quantities ------------------------------------------------------------------------------


def _read_manifest_text(manifest: Path) -> str:
    try:
        if not manifest.is_file():
            raise InputError(f"--pairs {manifest}: {'not found' if not manifest.exists() else 'not a file'}")
        if manifest.stat().st_size > MAX_MANIFEST_BYTES:
            raise InputError(f"--pairs {manifest.name}: larger than {MAX_MANIFEST_BYTES // 2**20} MiB; not a manifest")
        data = manifest.read_bytes()
    except (OSError, ValueError) as error:
        raise InputError(f"--pairs {manifest}: cannot be read ({getattr(error, 'strerror', None) or error})") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InputError(f"--pairs {manifest.name}: not a UTF-8 text file (CSV with a header generated,reference[,law], "
                         "or a JSON list)") from None


def _csv_rows(manifest: Path, text: str) -> list[tuple[str, dict]]:
    if "\x00" in text:
        raise InputError(f"--pairs {manifest.name}: contains NUL characters; not a CSV file")
    try:
        rows = list(csv.reader(io.StringIO(text)))
    except csv.Error as error:
        raise InputError(f"--pairs {manifest.name}: not a readable CSV file ({error})") from None
    rows = [(n, row) for n, row in enumerate(rows, start=1) if any(cell.strip() for cell in row)]
    if not rows:
        raise InputError(f"--pairs {manifest.name}: empty (a CSV needs a header generated,reference[,law])")
    header = [cell.strip().lower() for cell in rows[0][1]]
    unknown = [h for h in header if h not in MANIFEST_COLUMNS]
    if unknown or len(set(header)) != len(header) or not {"generated", "reference"} <= set(header):
        raise InputError(f"--pairs {manifest.name}: the header must name the columns generated,reference and optionally "
                         f"law, got {','.join(header)[:200]!r}")
    out = []
    for n, row in rows[1:]:
        if len(row) > len(header):
            raise InputError(f"--pairs {manifest.name} row {n}: {len(row)} fields for {len(header)} columns")
        out.append((f"row {n}", {h: (row[i].strip() if i < len(row) else "") for i, h in enumerate(header)}))
    return out


def _json_rows(manifest: Path, text: str) -> list[tuple[str, dict]]:
    try:
        items = json.loads(text)
    except ValueError as error:
        raise InputError(f"--pairs {manifest.name}: not valid JSON ({error})") from None
    if isinstance(items, dict) and isinstance(items.get("pairs"), list):
        items = items["pairs"]
    if not isinstance(items, list):
        raise InputError(f"--pairs {manifest.name}: expected a JSON list of objects with generated, reference (and law)")
    out = []
    for i, item in enumerate(items):
        where = f"item {i}"
        if not isinstance(item, dict):
            raise InputError(f"--pairs {manifest.name} {where}: expected an object with generated, reference (and law)")
        unknown = [str(k)[:40] for k in item if k not in MANIFEST_COLUMNS]
        if unknown:
            raise InputError(f"--pairs {manifest.name} {where}: unknown key(s) {', '.join(unknown)} (the keys are "
                             "generated, reference and optionally law)")
        for key, value in item.items():
            if value is not None and not isinstance(value, str):
                raise InputError(f"--pairs {manifest.name} {where}: {key} must be a string, got {type(value).__name__}")
        out.append((where, {k: (v or "").strip() for k, v in item.items()}))
    return out


def _manifest_path(manifest: Path, where: str, column: str, value: str | None) -> Path:
    """The video a manifest cell names, relative to the manifest's folder; InputError for an unusable one."""
    head = f"--pairs {manifest.name} {where}"
    if not value:
        raise InputError(f"{head}: no {column} video")
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in value):
        raise InputError(f"{head}: the {column} path contains control characters")
    if "://" in value:
        raise InputError(f"{head}: the {column} path {value[:80]!r} is a URL; give a local file")
    path = Path(value)
    path = path if path.is_absolute() else manifest.parent / path
    try:
        exists = path.exists()
    except (OSError, ValueError) as error:
        raise InputError(f"{head}: the {column} path cannot be used ({getattr(error, 'strerror', None) or error})") from None
    if not exists:
        raise InputError(f"{head}: {column} video {value[:200]!r} not found (paths are relative to the manifest's folder)")
    return path
