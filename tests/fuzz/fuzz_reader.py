"""Fuzz target for the workbook reader: any bytes in, a BOM or UnusableInputError out.

Run with atheris (coverage-guided, when installed)::

    pip install atheris
    python tests/fuzz/fuzz_reader.py -atheris_runs=100000 tests/corpus/files

or without it, with the built-in mutator over the corpus seeds::

    python tests/fuzz/fuzz_reader.py --runs 2000 --seed 1

The mutator is structure-aware: besides flipping, cutting and splicing raw bytes (which mostly
exercises the sniffing and zip checks), it opens seed workbooks, mutates one XML part with
tokens that matter to the reader (duplicate rows, error cells, far references, shared-string
indexes, DTDs) and re-zips it with valid checksums, so mutations reach the sheet scan and the
cell reader. ``tests/test_fuzz_reader.py`` runs a short, seeded batch of these under the same
memory cap and timeout as the corpus.
"""

from __future__ import annotations

import io
import random
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SEEDS = ROOT / "tests" / "corpus" / "files"

TOKENS = [
    b'<row r="2">', b'<row r="1048577">', b'<row r="0">', b'<row>', b"</row>", b'<c r="A2">',
    b'<c r="XFD1048576"><v>1</v></c>', b'<c r="D2" t="e"><v>#N/A</v></c>', b't="e"', b't="s"',
    b't="str"', b't="b"', b't="inlineStr"', b'<c r="D3"><f>1+1</f></c>', b"<v>-1</v>",
    b"<v>99999999</v>", b"<v>1e308</v>", b"<v>NaN</v>", b"<v></v>", b'<is><t>x</t></is>',
    b'<mergeCell ref="A1:Z9"/>', b'<!DOCTYPE x [<!ENTITY a "b">]>', b"&amp;", b"&#0;", b"&a;",
    b"_x0007_", b'hidden="1"', b's="1"', b's="999"', b'<dimension ref="A1:XFD1048576"/>',
    b'<sheet name="minerals" sheetId="9" r:id="rId1"/>', b'date1904="1"', b"\x00", b"\xff\xfe",
    b'fullCalcOnLoad="1"', b'<numFmt numFmtId="164" formatCode="0%"/>', b'r="A1048576"',
]

MUTATORS_RAW = ("flip", "insert", "delete", "truncate", "duplicate", "token")


def seeds() -> list[bytes]:
    return [p.read_bytes() for p in sorted(SEEDS.iterdir()) if p.is_file()]


def mutate_bytes(data: bytes, rng: random.Random, rounds: int = 3) -> bytes:
    buf = bytearray(data)
    for _ in range(rng.randint(1, rounds)):
        kind = rng.choice(MUTATORS_RAW)
        at = rng.randrange(len(buf) + 1) if buf else 0
        if kind == "flip" and buf:
            i = rng.randrange(len(buf))
            buf[i] ^= 1 << rng.randrange(8)
        elif kind == "insert":
            buf[at:at] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 8)))
        elif kind == "delete" and buf:
            del buf[at: at + rng.randint(1, 64)]
        elif kind == "truncate" and buf:
            del buf[rng.randrange(len(buf)):]
        elif kind == "duplicate" and buf:
            size = rng.randint(1, 256)
            buf[at:at] = buf[at: at + size]
        else:
            buf[at:at] = rng.choice(TOKENS)
    return bytes(buf)


def mutate_package(data: bytes, rng: random.Random) -> bytes | None:
    """Mutate one XML member of a zip seed and re-zip it (valid CRCs); None if not a zip."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            members = [(info.filename, zf.read(info)) for info in zf.infolist()]
    except Exception:
        return None
    xml = [i for i, (name, _) in enumerate(members) if name.endswith((".xml", ".rels"))]
    if not xml:
        return None
    for _ in range(rng.randint(1, 3)):
        index = rng.choice(xml)
        name, body = members[index]
        members[index] = (name, mutate_xml(body, rng))
    if rng.random() < 0.1:  # drop or duplicate a member
        index = rng.randrange(len(members))
        if rng.random() < 0.5:
            del members[index]
        else:
            members.append(members[index])
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for name, body in members:
                zf.writestr(zipfile.ZipInfo(name, (1980, 1, 1, 0, 0, 0)), body,
                            compress_type=zipfile.ZIP_DEFLATED)
    return out.getvalue()


def mutate_xml(body: bytes, rng: random.Random) -> bytes:
    buf = bytearray(body)
    kind = rng.randrange(6)
    # Prefer positions at tag boundaries so the XML often stays well-formed.
    marks = [i for i in range(len(buf)) if buf[i] == 0x3C] or [0]
    at = rng.choice(marks)
    if kind == 0:
        buf[at:at] = rng.choice(TOKENS)
    elif kind == 1:  # duplicate an element-sized slice (rows, cells)
        end = buf.find(b">", at + 1)
        end2 = buf.find(b">", end + 1) if end >= 0 else -1
        if end2 > at:
            buf[at:at] = buf[at: end2 + 1]
    elif kind == 2:  # delete a slice
        del buf[at: at + rng.randint(1, 40)]
    elif kind == 3:  # change a number
        digits = [i for i in range(len(buf)) if 48 <= buf[i] <= 57]
        if digits:
            i = rng.choice(digits)
            buf[i: i + 1] = str(rng.choice([0, 9, 99, 1048577, 16385, 2**31, -1])).encode()
    elif kind == 4:  # swap two slices (rows out of order)
        other = rng.choice(marks)
        a, b = sorted((at, other))
        size = rng.randint(1, 60)
        if a + size <= b:
            buf[a: a + size], buf[b: b + size] = buf[b: b + size], buf[a: a + size]
    else:
        return mutate_bytes(bytes(buf), rng, rounds=2)
    return bytes(buf)


def mutated(count: int, seed: int = 0) -> Iterator[bytes]:
    """``count`` mutated inputs from the corpus seeds, reproducible from ``seed``."""
    rng = random.Random(seed)
    pool = seeds()
    zips = [s for s in pool if s.startswith(b"PK")]
    for _ in range(count):
        if zips and rng.random() < 0.7:
            out = mutate_package(rng.choice(zips), rng)
            if out is not None:
                yield out
                continue
        yield mutate_bytes(rng.choice(pool), rng)


def check_one(data: bytes) -> str:
    """The property: a BOM or UnusableInputError; anything else propagates as a failure."""
    from compliance.errors import UnusableInputError
    from compliance.reader.bom import read_bom

    try:
        read_bom(data, name="fuzz.xlsx")
    except UnusableInputError:
        return "unusable"
    return "bom"


def _atheris_main() -> None:
    import atheris

    with atheris.instrument_imports():
        import compliance.reader.bom  # noqa: F401

    def one(data: bytes) -> None:
        check_one(data)

    atheris.Setup(sys.argv, one)
    atheris.Fuzz()


def _builtin_main(argv: list[str]) -> int:
    import argparse
    import collections

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=500)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    counts: collections.Counter[str] = collections.Counter()
    for i, data in enumerate(mutated(args.runs, args.seed)):
        try:
            counts[check_one(data)] += 1
        except Exception:
            path = Path(f"fuzz-crash-{args.seed}-{i}.xlsx")
            path.write_bytes(data)
            print(f"crash on input {i}; saved to {path}", file=sys.stderr)
            raise
    print(dict(counts))
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    if any(a.startswith("-atheris") for a in sys.argv[1:]) or "--atheris" in sys.argv:
        sys.argv = [a for a in sys.argv if a != "--atheris"]
        _atheris_main()
    else:
        sys.exit(_builtin_main(sys.argv[1:]))
