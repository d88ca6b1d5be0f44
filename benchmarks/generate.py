"""Deterministic generator of realistic BOM workbooks for the performance benchmark.

``python benchmarks/generate.py 1000000`` writes (or reuses) ``benchmarks/data/bom-<N>-g<V>.xlsx``
holding N mineral lines, N/100 batteries (about 100 mineral lines and 8 components each) and
about 2,000 supplier entities, with a mix of countries, entities and dates that makes some
batteries pass, some fail and a few lack data.

Writing a million rows through openpyxl takes minutes, so the xlsx package is written directly:
a zip of streamed sheet XML with a shared-strings table (what Excel itself writes), numbers as
``<v>``, booleans as ``t="b"`` cells and dates as ISO text, which the reader accepts. The same N
and generator version give byte-identical files (seeded ``random.Random``, fixed zip times).
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import sys
import time
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

# Bump when the generated content or layout changes, so cached files are regenerated.
GENERATOR_VERSION = 1
DATA_DIR = Path(__file__).resolve().parent / "data"
SEED = 20_261_121

LINES_PER_BATTERY = 100
COMPONENTS_PER_BATTERY = 8
ENTITY_COUNT = 2_000

Cell = str | int | float | bool | None

# --------------------------------------------------------------------------------------------
# The shape of the data
# --------------------------------------------------------------------------------------------

BATTERY_COLUMNS = ("battery_id", "placed_in_service", "acquired_on", "description")
COMPONENT_COLUMNS = ("battery_id", "component_id", "component_type", "country", "manufacturer",
                     "incremental_value_usd")
# The 13 contract columns plus one free-text column people add (14 in all, like the issue's
# measured sheet); the reader reports it once as an unknown column and ignores it.
MINERAL_COLUMNS = ("battery_id", "line_id", "mineral", "value_usd", "mass_kg",
                   "extraction_country", "extraction_entity", "processing_country",
                   "processing_entity", "recycled", "recycling_country", "recycling_entity",
                   "impracticable_to_trace", "supplier_note")
ENTITY_COLUMNS = ("entity_id", "name", "incorporated_in", "headquartered_in",
                  "covered_government_voting_pct", "covered_government_board_pct",
                  "covered_government_equity_pct", "effective_control", "restricted_lists")

# Countries where entities are incorporated, with weights (mostly the battery supply chain).
ENTITY_COUNTRIES = (("US", 18), ("CA", 7), ("AU", 9), ("JP", 8), ("KR", 10), ("CL", 6),
                    ("ID", 8), ("CD", 5), ("CN", 20), ("MX", 3), ("AR", 2), ("DE", 2),
                    ("MA", 1), ("FI", 1))

# Minerals by weight in a lithium-ion pack's bill, with typical extraction countries.
MINERAL_SOURCES: dict[str, tuple[tuple[str, int], ...]] = {
    "lithium": (("AU", 5), ("CL", 4), ("AR", 2), ("CN", 2), ("US", 1)),
    "nickel": (("ID", 5), ("AU", 2), ("CA", 2), ("US", 1)),
    "cobalt": (("CD", 6), ("AU", 1), ("CA", 1), ("ID", 1)),
    "manganese": (("AU", 3), ("MA", 1), ("CN", 1)),
    "graphite": (("CN", 6), ("CA", 1), ("MX", 1), ("US", 1)),
    "aluminum": (("CA", 3), ("AU", 2), ("US", 2), ("CN", 1)),
}
MINERAL_WEIGHTS = (("lithium", 20), ("nickel", 20), ("cobalt", 12), ("manganese", 10),
                   ("graphite", 20), ("aluminum", 8))
OTHER_MINERALS = ("fluorspar", "tin", "titanium", "magnesium", "vanadium")

# Where each battery profile processes its minerals and makes its components.
PROFILES = {
    # name: (weight, processing countries, component countries)
    "north_american": (45, (("US", 5), ("CA", 2), ("KR", 2), ("JP", 1)),
                       (("US", 6), ("CA", 1), ("MX", 2))),
    "korean": (20, (("KR", 6), ("JP", 2), ("US", 1), ("CN", 1)),
               (("US", 4), ("KR", 3), ("MX", 1))),
    "mixed_asia": (20, (("CN", 4), ("KR", 2), ("ID", 2), ("JP", 1)),
                   (("CN", 3), ("US", 3), ("HU", 1), ("MX", 1))),
    "china": (15, (("CN", 9), ("ID", 1)), (("CN", 7), ("US", 1))),
}

# How people spell countries besides ISO codes (one in ~30 cells).
SPELLINGS = {"US": "United States", "CA": "Canada", "AU": "Australia", "JP": "Japan",
             "KR": "South Korea", "CL": "Chile", "ID": "Indonesia", "CD": "DR Congo",
             "CN": "China", "MX": "Mexico", "AR": "Argentina", "MA": "Morocco"}

COMPONENT_PLAN = (("battery cell", "C-CELL", 0.46), ("battery module", "C-MOD", 0.12),
                  ("cathode electrode", "C-CATH", 0.18), ("anode electrode", "C-AN", 0.10),
                  ("separator", "C-SEP", 0.04), ("liquid electrolyte", "C-ELY", 0.04),
                  ("solid metal electrode", "C-FOIL", 0.03), ("module", "C-PACK", 0.03))

MODELS = ("Model S pack", "Model 3 LR pack", "Ioniq 5 77 kWh", "Mach-E ER", "Bolt 65 kWh",
          "ID.4 Pro", "R1T Large", "EV6 Wind", "Lyriq 102 kWh", "Leaf Plus")
PLANTS = ("Fremont", "Spring Hill", "Georgetown", "Smyrna", "Chattanooga", "Ulsan", "Normal",
          "Marysville", "Lordstown", "Tuscaloosa")


def _pick(rng: random.Random, weighted: Sequence[tuple[str, int]]) -> str:
    total = sum(w for _, w in weighted)
    x = rng.random() * total
    for value, weight in weighted:
        x -= weight
        if x < 0:
            return value
    return weighted[-1][0]


def _money(cents: int) -> float:
    return round(cents / 100, 2)


# --------------------------------------------------------------------------------------------
# Rows
# --------------------------------------------------------------------------------------------


class Pools:
    """Entity ids by country: all of them, and those no FEOC test catches."""

    def __init__(self) -> None:
        self.all: dict[str, list[str]] = {}
        self.clean: dict[str, list[str]] = {}

    def add(self, country: str, eid: str, clean: bool) -> None:
        self.all.setdefault(country, []).append(eid)
        if clean:
            self.clean.setdefault(country, []).append(eid)

    def pick(self, rng: random.Random, country: str, clean: bool) -> str:
        pools = self.clean if clean else self.all
        pool = (pools.get(country) or self.all.get(country) or pools.get("US")
                or self.all.get("US") or next(iter(self.all.values())))
        return rng.choice(pool)


def _entities(rng: random.Random, count: int) -> tuple[list[list[Cell]], Pools]:
    """``count`` entities, a few of them foreign entities of concern by ownership or list."""
    rows: list[list[Cell]] = []
    pools = Pools()
    for i in range(1, count + 1):
        eid = f"E-{i:05d}"
        country = _pick(rng, ENTITY_COUNTRIES)
        headquarters = country
        if country in ("ID", "CD", "CL", "AR") and rng.random() < 0.25:
            headquarters = rng.choice(("CN", "AU", "CA", "US", "JP"))  # foreign-owned operator
        voting = board = equity = 0.0
        if country != "CN" and rng.random() < 0.08:
            equity = round(rng.uniform(2, 45), 2)  # a covered-nation government's stake
            voting = rng.choice((0.0, round(rng.uniform(1, equity), 2)))
            board = rng.choice((0, 0, 10, 20, 25, 33.33))
        effective = rng.random() < 0.01
        lists = "SDN" if rng.random() < 0.004 else None
        cells: list[Cell] = [eid, f"{_company(rng)} {country}-{i}", _spell(rng, country),
                             _spell(rng, headquarters), voting, board, equity, effective, lists]
        unanswered = rng.random() < 0.01  # an ownership questionnaire not returned
        if unanswered:
            cells[4] = cells[5] = cells[6] = None
        feoc = (country == "CN" or headquarters == "CN" or max(voting, board, equity) >= 25
                or effective or lists is not None)
        rows.append(cells)
        pools.add(country, eid, clean=not feoc and not unanswered)
    return rows, pools


def _company(rng: random.Random) -> str:
    first = ("Pacific", "Northern", "Atlas", "Summit", "Golden", "Blue River", "Eastern",
             "Silver Lake", "Red Rock", "Great Plains", "Jade", "Harbor")
    second = ("Mining", "Refining", "Materials", "Chemicals", "Metals", "Energy", "Battery",
              "Cathode", "Resources", "Minerals")
    suffix = ("Ltd.", "Inc.", "Co., Ltd.", "LLC", "Pty Ltd", "S.A.", "K.K.", "Corp.")
    return f"{rng.choice(first)} {rng.choice(second)} {rng.choice(suffix)}"


def _spell(rng: random.Random, code: str) -> str:
    if code in SPELLINGS and rng.random() < 1 / 30:
        return SPELLINGS[code]
    return code


def _chains(rng: random.Random, profile: tuple[Any, ...], pools: Pools,
            clean: bool) -> list[tuple[Any, ...]]:
    """A battery's procurement chains: (mineral, weight, extraction, processing, recycling)."""
    chains: list[tuple[Any, ...]] = []
    for mineral, weight in MINERAL_WEIGHTS:
        for _ in range(rng.randint(1, 3)):
            extraction = _pick(rng, MINERAL_SOURCES[mineral])
            processing = _pick(rng, profile[1])
            if clean and "CN" in (extraction, processing) and mineral != "graphite":
                extraction, processing = "AU", "US"
            itt = mineral == "graphite" and (extraction == "CN" or processing == "CN")
            recycling = None
            if rng.random() < 0.1:
                country = _pick(rng, (("US", 6), ("CA", 2), ("KR", 1), ("CN", 1)))
                if clean and country == "CN":
                    country = "US"
                recycling = (country, pools.pick(rng, country, clean))
            chains.append((mineral, weight, extraction, pools.pick(rng, extraction, clean),
                           processing, pools.pick(rng, processing, clean), recycling,
                           itt and (clean or rng.random() < 0.5)))
    for mineral in rng.sample(OTHER_MINERALS, 2):
        extraction = _pick(rng, (("CN", 2), ("AU", 1), ("CA", 1), ("US", 1)))
        if clean and extraction == "CN":
            extraction = "CA"
        processing = _pick(rng, profile[1])
        chains.append((mineral, 3, extraction, pools.pick(rng, extraction, clean), processing,
                       pools.pick(rng, processing, clean), None, False))
    return chains


def _battery_rows(
    rng: random.Random, lines: int, pools: Pools, per_battery: int
) -> Iterator[tuple[list[Cell], list[list[Cell]], list[list[Cell]]]]:
    """Yield (battery row, component rows, mineral rows) until ``lines`` mineral rows exist."""
    start = dt.date(2023, 5, 1).toordinal()
    end = dt.date(2026, 12, 31).toordinal()
    profiles = [(name, spec[0]) for name, spec in PROFILES.items()]
    made = 0
    b = 0
    while made < lines:
        b += 1
        bid = f"BAT-{b:06d}"
        name = _pick(rng, profiles)
        profile = PROFILES[name]
        clean = name == "north_american" or (name == "korean" and rng.random() < 0.6)
        placed = dt.date.fromordinal(rng.randint(start, end))
        acquired: str | None = None
        if rng.random() < 0.7:
            acquired = (placed - dt.timedelta(days=rng.randint(0, 60))).isoformat()
        battery: list[Cell] = [bid, placed.isoformat(), acquired,
                               f"{rng.choice(MODELS)}, {rng.choice(PLANTS)}"]

        components: list[list[Cell]] = []
        pack_value = rng.randint(600_000, 1_800_000)  # cents
        for ctype, prefix, share in COMPONENT_PLAN:
            country = _pick(rng, profile[2])
            if clean and country not in ("US", "CA", "MX"):
                country = "US"
            value = int(pack_value * share * rng.uniform(0.8, 1.2))
            components.append([bid, f"{prefix}-{b % 97:02d}", ctype, _spell(rng, country),
                               pools.pick(rng, country, clean), _money(value)])

        spread = per_battery * 15 // 100
        n = min(lines - made, rng.randint(per_battery - spread, per_battery + spread))
        if lines - made - n < per_battery // 2:
            n = lines - made  # do not leave a tiny last battery
        chains = _chains(rng, profile, pools, clean)
        weights = [c[1] for c in chains]
        minerals: list[list[Cell]] = []
        for j, chain in enumerate(rng.choices(chains, weights, k=n), 1):
            mineral, _, ex_c, ex_e, pr_c, pr_e, recycling, itt = chain
            value = rng.randint(500, 250_000)  # 5.00 .. 2,500.00 USD
            mass = round(value / 100 / rng.uniform(8, 60), 3)
            recycled = recycling is not None and rng.random() < 0.5
            minerals.append([
                bid, f"M-{j:03d}", mineral if rng.random() > 0.01 else mineral.capitalize(),
                _money(value), mass, _spell(rng, ex_c), ex_e, _spell(rng, pr_c), pr_e,
                recycled, _spell(rng, recycling[0]) if recycled else None,
                recycling[1] if recycled else None, itt, f"PO-{rng.randrange(10**7):07d}"])
        if rng.random() < 0.06:  # a supplier that did not answer: a few data gaps
            for row in rng.sample(minerals, min(len(minerals), rng.randint(1, 3))):
                gap = rng.randrange(4)
                if gap == 0:
                    row[8] = None  # processing entity not named
                elif gap == 1:
                    row[7] = None  # processing country not reported
                elif gap == 2:
                    row[6] = f"E-X{rng.randrange(1000):03d}"  # not in the entities sheet
                else:
                    row[3] = "TBD"  # value not yet known
        made += n
        yield battery, components, minerals


# --------------------------------------------------------------------------------------------
# The xlsx package
# --------------------------------------------------------------------------------------------

_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG = "http://schemas.openxmlformats.org/package/2006/relationships"
_CT = "http://schemas.openxmlformats.org/package/2006/content-types"
_XML = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)


def _letters(count: int) -> list[str]:
    out = []
    for i in range(count):
        s = ""
        n = i + 1
        while n:
            n, r = divmod(n - 1, 26)
            s = chr(65 + r) + s
        out.append(s)
    return out


class SharedStrings:
    def __init__(self) -> None:
        self.index: dict[str, int] = {}
        self.count = 0  # references, as Excel writes in the sst count attribute

    def get(self, text: str) -> int:
        self.count += 1
        i = self.index.get(text)
        if i is None:
            i = self.index[text] = len(self.index)
        return i

    def xml(self) -> Iterator[bytes]:
        yield (f'{_XML}<sst xmlns="{_NS}" count="{self.count}" '
               f'uniqueCount="{len(self.index)}">').encode()
        batch: list[str] = []
        for text in self.index:
            batch.append(f"<si><t>{escape(text)}</t></si>")
            if len(batch) >= 10_000:
                yield "".join(batch).encode()
                batch.clear()
        yield ("".join(batch) + "</sst>").encode()


def _sheet_xml(header: Sequence[str], rows: Iterable[list[Cell]],
               sst: SharedStrings) -> Iterator[bytes]:
    letters = _letters(len(header))
    yield (f'{_XML}<worksheet xmlns="{_NS}" xmlns:r="{_R}"><sheetData>').encode()
    batch: list[str] = []
    r = 0
    for values in [list(header)], rows:
        for row in values:
            r += 1
            parts = [f'<row r="{r}">']
            for letter, v in zip(letters, row, strict=True):
                if v is None:
                    continue
                if isinstance(v, bool):
                    parts.append(f'<c r="{letter}{r}" t="b"><v>{int(v)}</v></c>')
                elif isinstance(v, int | float):
                    parts.append(f'<c r="{letter}{r}"><v>{v!r}</v></c>')
                else:
                    parts.append(f'<c r="{letter}{r}" t="s"><v>{sst.get(v)}</v></c>')
            parts.append("</row>")
            batch.append("".join(parts))
            if len(batch) >= 5_000:
                yield "".join(batch).encode()
                batch.clear()
    yield ("".join(batch) + "</sheetData></worksheet>").encode()


def _write_member(zf: zipfile.ZipFile, name: str, chunks: Iterable[bytes]) -> None:
    info = zipfile.ZipInfo(name, date_time=_ZIP_TIME)
    info.compress_type = zipfile.ZIP_DEFLATED
    with zf.open(info, "w", force_zip64=True) as fh:
        for chunk in chunks:
            fh.write(chunk)


def _package_parts(sheets: Sequence[str]) -> dict[str, str]:
    overrides = "".join(
        f'<Override PartName="/xl/worksheets/sheet{i}.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
        for i in range(1, len(sheets) + 1))
    content_types = (
        f'{_XML}<Types xmlns="{_CT}">'
        '<Default Extension="rels" ContentType="application/'
        'vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
        f"{overrides}"
        '<Override PartName="/xl/sharedStrings.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
        '<Override PartName="/xl/styles.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
        '</Types>')
    root_rels = (
        f'{_XML}<Relationships xmlns="{_PKG}">'
        '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
        'relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>')
    sheet_els = "".join(f'<sheet name="{escape(n)}" sheetId="{i}" r:id="rId{i}"/>'
                        for i, n in enumerate(sheets, 1))
    workbook = (f'{_XML}<workbook xmlns="{_NS}" xmlns:r="{_R}"><workbookPr/>'
                f"<sheets>{sheet_els}</sheets></workbook>")
    rel_base = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/"
    rels = "".join(f'<Relationship Id="rId{i}" Type="{rel_base}worksheet" '
                   f'Target="worksheets/sheet{i}.xml"/>' for i in range(1, len(sheets) + 1))
    n = len(sheets)
    rels += (f'<Relationship Id="rId{n + 1}" Type="{rel_base}sharedStrings" '
             'Target="sharedStrings.xml"/>'
             f'<Relationship Id="rId{n + 2}" Type="{rel_base}styles" Target="styles.xml"/>')
    workbook_rels = f'{_XML}<Relationships xmlns="{_PKG}">{rels}</Relationships>'
    styles = (
        f'{_XML}<styleSheet xmlns="{_NS}">'
        '<fonts count="1"><font><sz val="11"/><name val="Calibri"/></font></fonts>'
        '<fills count="2"><fill><patternFill patternType="none"/></fill>'
        '<fill><patternFill patternType="gray125"/></fill></fills>'
        '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
        '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/>'
        '</cellStyleXfs><cellXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" '
        'borderId="0" xfId="0"/></cellXfs><cellStyles count="1"><cellStyle name="Normal" '
        'xfId="0" builtinId="0"/></cellStyles></styleSheet>')
    return {"[Content_Types].xml": content_types, "_rels/.rels": root_rels,
            "xl/workbook.xml": workbook, "xl/_rels/workbook.xml.rels": workbook_rels,
            "xl/styles.xml": styles}


def write_workbook(path: Path, lines: int, *, seed: int = SEED) -> dict[str, int]:
    """Write a workbook with ``lines`` mineral lines to ``path``; return row counts per sheet."""
    rng = random.Random(seed * 1_000_003 + lines)
    # Full-size workbooks have ~2,000 entities and ~100 lines per battery; tiny ones (the start-up
    # fixture) scale both down so a 20-line workbook is a few batteries and a few dozen entities.
    entity_rows, pools = _entities(rng, min(ENTITY_COUNT, max(40, lines // 5)))
    per_battery = min(LINES_PER_BATTERY, max(5, lines // 4))
    batteries: list[list[Cell]] = []
    components: list[list[Cell]] = []
    minerals: list[list[Cell]] = []
    for battery, comps, mins in _battery_rows(rng, lines, pools, per_battery):
        batteries.append(battery)
        components.extend(comps)
        minerals.extend(mins)
    sheets = ("batteries", "components", "minerals", "entities")
    sst = SharedStrings()
    tmp = path.with_name(path.name + ".tmp")
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=6) as zf:
        for name, text in _package_parts(sheets).items():
            _write_member(zf, name, [text.encode()])
        content = ((BATTERY_COLUMNS, batteries), (COMPONENT_COLUMNS, components),
                   (MINERAL_COLUMNS, minerals), (ENTITY_COLUMNS, entity_rows))
        for i, (header, rows) in enumerate(content, 1):
            _write_member(zf, f"xl/worksheets/sheet{i}.xml", _sheet_xml(header, rows, sst))
        _write_member(zf, "xl/sharedStrings.xml", sst.xml())
    tmp.replace(path)
    return {"batteries": len(batteries), "components": len(components),
            "minerals": len(minerals), "entities": len(entity_rows)}


def workbook_path(lines: int) -> Path:
    return DATA_DIR / f"bom-{lines}-g{GENERATOR_VERSION}.xlsx"


def ensure_workbook(lines: int, *, quiet: bool = False) -> Path:
    """The cached workbook for ``lines`` mineral lines, generated on first use."""
    path = workbook_path(lines)
    if path.exists():
        return path
    started = time.perf_counter()
    counts = write_workbook(path, lines)
    if not quiet:
        print(f"generated {path.name}: {counts} in {time.perf_counter() - started:.1f} s "
              f"({path.stat().st_size / 1e6:.1f} MB)", file=sys.stderr)
    return path


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("lines", type=int, nargs="+", help="mineral lines (e.g. 10000)")
    parser.add_argument("--force", action="store_true", help="regenerate even when cached")
    parser.add_argument("--out", type=Path, help="write here instead of the cache (one size)")
    args = parser.parse_args(argv)
    for lines in args.lines:
        if args.out is not None:
            print(write_workbook(args.out, lines))
            continue
        if args.force:
            workbook_path(lines).unlink(missing_ok=True)
        print(ensure_workbook(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
