"""Money as written ("$1,234.5 million", "NT$500 million", "130 million yuan") to an amount
and an ISO 4217 currency.

price-parser reads the number (thousands and decimal separators in any convention) and the
currency sign or code next to it; its currency table turns a sign into a code. What it
leaves to us: the scale word after the number, currency names written out ("yuan", "won"),
and the few signs that many currencies share, read as business news means them ("$" is
USD, "C$" CAD). A sign that stays ambiguous gives no currency rather than a guess.
"""

from __future__ import annotations

import re
from decimal import Decimal
from functools import lru_cache

from price_parser import Price

from ..events import Money

#: Scale words after the number; "Mrd."/"Mio." as German news writes them.
SCALE = {"thousand": 1e3, "k": 1e3, "million": 1e6, "mn": 1e6, "mln": 1e6, "mio": 1e6,
         "m": 1e6, "billion": 1e9, "bn": 1e9, "b": 1e9, "mrd": 1e9, "trillion": 1e12,
         "tn": 1e12, "lakh": 1e5, "crore": 1e7}
#: Signs several currencies use, as business news in English means them, and currency
#: names written out. Everything else comes from price-parser's table.
PREFERRED = {"$": "USD", "us$": "USD", "usd": "USD", "£": "GBP", "¥": "CNY", "₩": "KRW",
             "a$": "AUD", "au$": "AUD", "c$": "CAD", "ca$": "CAD", "rmb": "CNY", "kr": None,
             "dollar": "USD", "dollars": "USD", "euro": "EUR", "euros": "EUR",
             "pound": "GBP", "pounds": "GBP", "yuan": "CNY", "renminbi": "CNY", "元": "CNY",
             "won": "KRW", "yen": "JPY", "rupee": "INR", "rupees": "INR"}
_NAMES = re.compile(r"\b(" + "|".join(k for k in PREFERRED if k.isalpha()) + r")\b", re.I)
_SCALED = re.compile(r"(\d[\d.,\s]*)\s*(" + "|".join(sorted(SCALE, key=len, reverse=True))
                     + r")\b\.?", re.I)


@lru_cache(maxsize=1)
def _signs() -> dict[str, str]:
    """Each sign or code price-parser knows, to the one currency it can mean."""
    from price_parser._currencies import CURRENCIES  # the library's own table

    by_sign: dict[str, set[str]] = {}
    for code, info in CURRENCIES.items():
        for sign in (code, info.get("s"), info.get("sn"), *info.get("sn2", ())):
            if sign:
                by_sign.setdefault(sign.casefold(), set()).add(code)
    # a code is itself; NTD and TWD are one currency under two codes
    return {sign: (sign.upper() if sign.upper() in codes else sorted(codes)[0])
            for sign, codes in by_sign.items()
            if len(codes) == 1 or sign.upper() in codes or codes == {"NTD", "TWD"}}


def currency_code(sign: str | None) -> str | None:
    """`$` → USD, `NT$` → TWD, `S$` → SGD, `R$` → BRL, `yuan` → CNY; None when unknown."""
    if not sign:
        return None
    key = sign.strip().casefold()
    if key in PREFERRED:
        return PREFERRED[key]
    code = _signs().get(key)
    return "TWD" if code == "NTD" else code


def parse_money(text: str | None) -> Money | None:
    """`$1,234.5 million` gives 1234500000 USD; `NT$500 million` is TWD, not USD; a text
    without a currency keeps only its words."""
    if not text:
        return None
    price = Price.fromstring(text)
    currency = currency_code(price.currency)
    if currency is None:
        named = _NAMES.search(text)
        currency = currency_code(named.group(1)) if named else None
    if price.amount is None or currency is None:
        return Money(text=text)
    return Money(amount=float(price.amount * Decimal(str(_scale(text)))), currency=currency,
                 text=text)


def _scale(text: str) -> float:
    """The scale word right after the number ("million", "bn", "Mrd."), else 1."""
    found = _SCALED.search(text)
    return SCALE[found.group(2).casefold()] if found else 1.0
