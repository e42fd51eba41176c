"""Add English names (``name_en``) to the shipped divisions table, ``yibao/data/divisions.csv``.

``python -m tools.division_names_en`` (after ``tools/build_divisions.py``; needs ``pypinyin``,
a tool-only dependency: ``pip install pypinyin``). Names follow the usual English forms of
Chinese place names: Hanyu Pinyin of the name without its suffix, syllables joined, an
apostrophe before a syllable that starts with a vowel (Huai'an, Lu'an), and the kind of
division in English for counties: 蜀山区 Shushan District, 肥东县 Feidong County, 昆山市 Kunshan
City, 浦东新区 Pudong New Area. Provinces and prefecture-level cities go without a suffix
(Anhui, Hefei); two cities that would read the same get their province in brackets (Suzhou
(Jiangsu), Suzhou (Anhui)). Readings that pinyin software gets wrong for place names are fixed in
:data:`READINGS` (闵行 is Minhang, not Minxing).
"""

from __future__ import annotations

import csv
from pathlib import Path

DIVISIONS = Path(__file__).resolve().parents[1] / "yibao" / "data" / "divisions.csv"

READINGS: dict[str, list[str]] = {
    "闵行": ["min", "hang"],
    "长宁": ["chang", "ning"],
    "长丰": ["chang", "feng"],
    "长兴": ["chang", "xing"],
    "天长": ["tian", "chang"],
    "六合": ["lu", "he"],
    "六安": ["lu", "an"],
    "盐都": ["yan", "du"],
    "莲都": ["lian", "du"],
    "蚌埠": ["beng", "bu"],
    "蚌山": ["beng", "shan"],
    "涡阳": ["guo", "yang"],
    "乐清": ["yue", "qing"],
    "句容": ["ju", "rong"],
    "枞阳": ["zong", "yang"],
    "歙": ["she"],
    "黟": ["yi"],
    "郊": ["jiao"],
}
"""Place-name readings (syllables of the name without its suffix) that differ from the
everyday reading pinyin software picks."""

SUFFIXES = [
    ("畲族自治县", " She Autonomous County"),
    ("新区", " New Area"),
    ("省", ""),
    ("区", " District"),
    ("县", " County"),
    ("市", " City"),
]


def _syllables(stem: str) -> list[str]:
    if stem in READINGS:
        return READINGS[stem]
    from pypinyin import lazy_pinyin  # type: ignore[import-not-found,unused-ignore]

    return [s.replace("ü", "v").replace("v", "ü") for s in lazy_pinyin(stem)]


def _join(syllables: list[str]) -> str:
    out = syllables[0]
    for s in syllables[1:]:
        out += ("'" if s[0] in "aoe" else "") + s
    return out.capitalize()


def english_name(name: str, level: str) -> str:
    """The English name of the division ``name`` (Chinese) at ``level``."""
    if name.startswith("上海"):
        return "Shanghai"
    found = [(s, e) for s, e in SUFFIXES if name.endswith(s) and len(name) > len(s)]
    suffix, kind = found[0] if found else ("", "")
    stem = name[: len(name) - len(suffix)]
    return _join(_syllables(stem)) + ("" if level in ("province", "city") else kind)


def _tell_cities_apart(rows: list[dict[str, str]]) -> None:
    """Cities whose Chinese names differ but read the same in English (苏州 and 宿州 are both
    Suzhou; 泰州 and 台州 both Taizhou) get their province in brackets: Suzhou (Jiangsu),
    Suzhou (Anhui)."""
    provinces = {r["code"]: r["name_en"] for r in rows if r["level"] == "province"}
    cities = [r for r in rows if r["level"] == "city"]
    for row in cities:
        if any(o["name_en"] == row["name_en"] and o["name"] != row["name"] for o in cities):
            row["name_en"] = f"{row['name_en']} ({provinces[row['parent']]})"


def main() -> None:
    with DIVISIONS.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    fields = [f for f in rows[0] if f != "name_en"] + ["name_en"]
    for row in rows:
        row["name_en"] = english_name(row["name"], row["level"])
    _tell_cities_apart(rows)
    with DIVISIONS.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)
    print(f"{len(rows)} English names written to {DIVISIONS}")


if __name__ == "__main__":
    main()
