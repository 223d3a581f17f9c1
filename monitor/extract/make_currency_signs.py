"""Derive ``currency_signs.json`` (what a currency sign on a page may stand for, and each
currency's minor units) from Babel's CLDR data. Run it after upgrading Babel:

    python -m monitor.extract.make_currency_signs

The signs are every locale's currency symbols, the one-word names people in a country give
its own currency in its official languages (円, euro, บาท), and ``CC$`` for each dollar or
peso CLDR writes ``$`` (AR$, CO$). Minor units are CLDR's (ISO 4217's, with CLDR's
corrections), and for a currency with 3 decimals the decimal mark its countries write
(12.500 KD, but 12,500 DT). A sign maps to the set of ISO codes it may mean; the order's currency picks
one. A test regenerates the file from the installed Babel and compares, so it cannot drift
into a hand-kept table: the few signs CLDR lacks are below, each with why.

Babel is imported here only: loading its data for ~1,100 locales takes seconds, so the
extraction reads the small file this writes instead.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from monitor.extract.prices import sign_key

TARGET = Path(__file__).with_name("currency_signs.json")

# A territory's currencies are taken as of this day, so that a rerun gives the same file.
AS_OF = dt.date(2025, 1, 1)

# Legacy codes still written for today's currency. Russian shops (and Yandex.Market's YML
# feeds) write RUR for the ruble: the 1998 redenomination is long past, no price today is in
# pre-1998 rubles, and CLDR's own short sign "р." is filed under RUR.
REPLACED: dict[str, str] = {"RUR": "RUB"}

# Signs shops write that CLDR has no symbol for. Each set is added to what CLDR says.
SUPPLEMENT: dict[str, tuple[str, ...]] = {
    # The standard Russian abbreviation of рубль (руб.), used by Russian and Belarusian shops;
    # CLDR's ru data has only ₽ (and р. for RUR).
    "руб.": ("RUB", "BYN"),
    # The Ukrainian abbreviation of гривня; CLDR's uk data has only ₴.
    "грн.": ("UAH",),
    # The Kazakh and Russian abbreviations of теңге; CLDR has only ₸.
    "тңг.": ("KZT",),
    "тг": ("KZT",),
    # The Romanian and Moldovan leu (plural lei), as their shops write prices; CLDR has only
    # the full names (leu românesc).
    "lei": ("RON", "MDL"),
    "leu": ("RON", "MDL"),
    # Dinars and the Qatari riyal in Latin letters, as shops there write them; CLDR has only
    # the Arabic abbreviations (د.ك.).
    "KD": ("KWD",),
    "BD": ("BHD",),
    "JD": ("JOD",),
    "LD": ("LYD",),
    "QR": ("QAR",),
    # Serbian dinara (the plural after a number) and the Albanian lek in the singular; CLDR
    # has din. and the plural Lekë.
    "dinara": ("RSD",),
    "Lek": ("ALL",),
    # The dollar signs Jamaican, Namibian, Zimbabwean and Uruguayan shops write; CLDR writes
    # $ or the code. And the Zambian kwacha's ZK, where CLDR has K.
    "J$": ("JMD",),
    "N$": ("NAD",),
    "Z$": ("ZWL",),
    "$U": ("UYU",),
    "ZK": ("ZMW",),
    # The Arabic words riyal, dirham and pound alone; CLDR names each currency with its
    # country (ريال سعودي) and abbreviates it (ر.س.). The Persian ریال (IRR) is CLDR's and
    # shares this key: sign_key folds the Arabic and Persian yeh.
    "ريال": ("SAR", "QAR", "OMR", "YER"),
    "درهم": ("AED", "MAD"),
    "جنيه": ("EGP", "SDG", "SSP"),
    # U+FDFC RIAL SIGN and U+20A8 RUPEE SIGN, which CLDR writes as letters (ر.س., Rs).
    "﷼": ("IRR", "SAR", "OMR", "QAR", "YER"),
    "₨": ("INR", "PKR", "LKR", "NPR", "MUR", "SCR"),
    # Nepalese shops write Rs. too; CLDR writes नेरू.
    "Rs": ("NPR",),
    # Türk lirası, the lira's sign before ₺ (2012) and still common; CLDR has only ₺.
    "TL": ("TRY",),
    # The won written after the amount (12,000원); CLDR's ko data names it 대한민국 원.
    "원": ("KRW",),
    # The informal đồng sign of Vietnamese shops (200.000 đ); CLDR has ₫.
    "đ": ("VND",),
    # Franken on Swiss price tags (Fr. 19.90); CLDR writes CHF.
    "Fr.": ("CHF",),
    # Renminbi in Latin letters, as Chinese shops write it; CLDR has ¥ and 元.
    "RMB": ("CNY",),
    # Hong Kong shops write $ alone for their dollar; CLDR's HK locales write HK$.
    "$": ("HKD",),
}

# Units that are a multiple of a currency's unit: Iran's everyday toman is 10 rial, and CLDR
# has only the rial. A price in them is never read as the currency (it would be a tenth of
# the number); it is refused, saying why.
MULTIPLES: dict[str, tuple[str, int]] = {"تومان": ("IRR", 10), "toman": ("IRR", 10)}

_OFFICIAL = ("official", "de_facto_official")


def build(supplement: Mapping[str, tuple[str, ...]] = SUPPLEMENT) -> dict[str, Any]:
    """Return the data file's content, from the installed Babel's CLDR data and the signs
    CLDR lacks (``supplement``)."""
    from babel import localedata
    from babel.core import get_cldr_version, get_global
    from babel.numbers import get_currency_precision, get_territory_currencies, list_currencies

    codes = sorted(list_currencies())
    signs: defaultdict[str, set[str]] = defaultdict(set)
    likely: Mapping[str, str] = get_global("likely_subtags")
    spoken: Mapping[str, dict[str, dict[str, Any]]] = get_global("territory_languages")
    known = set(localedata.locale_identifiers())
    for locale_id in sorted(known):
        data = localedata.load(locale_id)
        for code, symbol in data.get("currency_symbols", {}).items():
            signs[sign_key(symbol)].add(code)
        territory, languages = _where(locale_id, likely)
        official = spoken.get(territory, {})
        if not any(
            official.get(lang, {}).get("official_status") in _OFFICIAL for lang in languages
        ):
            continue
        names = data.get("currency_names", {})
        plurals = data.get("currency_names_plural", {})
        for code in get_territory_currencies(territory, AS_OF):
            for name in [names.get(code), *plurals.get(code, {}).values()]:
                if name and len(name.split()) == 1:
                    signs[sign_key(name)].add(code)
    for code in sorted(signs.get("$", ())):
        signs[sign_key(f"{code[:2]}$")].add(code)
    for sign, extra in supplement.items():
        signs[sign_key(sign)].update(extra)
    for sign in MULTIPLES:
        signs.pop(sign_key(sign), None)
    signs.pop("", None)
    table: dict[str, list[str]] = {}
    for sign, found in sorted(signs.items()):
        meant = sorted({REPLACED.get(code, code) for code in found})
        if meant != [sign.upper()]:  # an ISO code is read as itself anyway
            table[sign] = meant
    minor_units = {c: get_currency_precision(c) for c in codes if get_currency_precision(c) != 2}
    marks: defaultdict[str, set[str]] = defaultdict(set)
    for territory, there in spoken.items():
        current = get_territory_currencies(territory, AS_OF, non_tender=True)
        fine = [c for c in current if isinstance(c, str) and minor_units.get(c, 2) >= 3]
        for language, about in there.items():
            locale_id = f"{language}_{territory}"
            if fine and about.get("official_status") in _OFFICIAL and locale_id in known:
                mark = localedata.load(locale_id)["number_symbols"]["latn"]["decimal"]
                for code in fine:
                    marks[code].add(mark)
    return {
        "about": "Generated by make_currency_signs.py from Babel's CLDR data; do not edit.",
        "cldr": get_cldr_version(),
        "codes": " ".join(codes),
        "minor_units": minor_units,
        "decimal_marks": {c: m.pop() for c, m in sorted(marks.items()) if len(m) == 1},
        "replaced": REPLACED,
        "multiples": {sign_key(s): list(m) for s, m in sorted(MULTIPLES.items())},
        "signs": table,
    }


def _where(locale_id: str, likely: Mapping[str, str]) -> tuple[str, tuple[str, ...]]:
    """Given a locale (``zh_Hant_TW``, ``ja``), return its territory (its likeliest when it
    names none) and the ways CLDR may list its language there (``zh_Hant``, ``zh``)."""
    parts = locale_id.split("_")
    script = next((p for p in parts[1:] if len(p) == 4 and p.istitle()), None)
    territory = next((p for p in parts[1:] if len(p) == 2 and p.isupper()), "")
    if not territory:
        full = likely.get(locale_id) or likely.get(parts[0]) or ""
        territory = next((p for p in full.split("_")[1:] if len(p) == 2 and p.isupper()), "")
    languages = (f"{parts[0]}_{script}", parts[0]) if script else (parts[0],)
    return territory, languages


def render(data: dict[str, Any]) -> str:
    """The file's text: one sign a line, so a regeneration's diff is readable."""
    lines = ["{"]
    items = list(data.items())
    for index, (key, value) in enumerate(items):
        comma = "," if index < len(items) - 1 else ""
        if key == "signs":
            lines.append(f"{json.dumps(key)}: {{")
            signs = list(value.items())
            for i, (sign, meant) in enumerate(signs):
                tail = "," if i < len(signs) - 1 else ""
                lines.append(f"  {json.dumps(sign, ensure_ascii=False)}: {json.dumps(meant)}{tail}")
            lines.append("}" + comma)
        else:
            lines.append(f"{json.dumps(key)}: {json.dumps(value, ensure_ascii=False)}{comma}")
    lines.append("}")
    return "\n".join(lines) + "\n"


def main() -> None:
    TARGET.write_text(render(build()), "utf-8")
    print(f"wrote {TARGET.name}")


if __name__ == "__main__":
    main()
