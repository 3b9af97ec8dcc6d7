"""How common a whole name is: the term-frequency adjustment of an exact name agreement.

The trained u of "the names agree exactly" is an average over all names, but two records that share a *rare*
name agree by chance far less often than two that share a common one. Splink's term-frequency adjustment takes,
for the value the pair agrees on, u = that value's frequency among the indexed records, so the agreement weighs

    log2(m / f_name) = log2(m / u_exact) + log2(u_exact / f_name)

i.e. the trained weight plus an adjustment: positive for a name rarer than the average agreeing name, negative
for a common one, bounded by ``magic.TF_MAX_BOOST`` above and ``magic.TF_MAX_DISCOUNT`` below.

The value is the *whole* name, its folded tokens in sorted order ("dara sok" for both Sok Dara and Dara Sok),
not its rarest token: "Long Anu" can be a rare name although "Long" and "Anu" are both common, and a namesake
is someone with the whole name. The index counts these values beside the name tokens (``frequency_keys``, one
count per record and value) and answers their share of its records through the same frequency function.

Pure functions, no I/O.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from . import magic
from .names import NameKey, with_variants
from .record import Prepared

# Prefix of a whole-name value among the counted keys (a folded name token never holds "=").
WHOLE_NAME = "="


def _value(key: NameKey) -> str:
    return WHOLE_NAME + " ".join(key.sorted_tokens)


def whole_names(keys: list[NameKey]) -> frozenset[str]:
    """The whole-name values of a record's names (aliases and Thai royin variants included)."""
    return frozenset(_value(v) for v in with_variants(keys))


def frequency_keys(p: Prepared) -> frozenset[str]:
    """Everything an index counts for one record: its folded name tokens (the weak-name discount reads them)
    and its whole names (the exact-name adjustment reads them)."""
    return p.name_tokens | whole_names(p.names)


def whole_name_adjustment(a: Prepared, b: Prepared, u_exact: float,
                          frequency: Callable[[str], float]) -> tuple[float, str]:
    """Bits to add to an exact name agreement for how common the shared whole name is, and the detail.

    The rarest whole name the two records share decides (an alias shared counts). Returns (0.0, "") when the
    frequency is unknown: the names agree only when joined ("Sokha" / "Sok Ha"), the index is too small
    (``TF_MIN_RECORDS``) or it does not count whole names; the caller then falls back to the token discount.
    """
    if u_exact <= 0.0:
        return 0.0, ""
    f = math.inf
    for ka in with_variants(a.names):  # usually one name a side: one comparison, no sets built
        for kb in with_variants(b.names):
            if ka.sorted_tokens == kb.sorted_tokens:
                f = min(f, frequency(_value(ka)))
    if f <= 0.0 or f == math.inf:
        return 0.0, ""
    bits = max(-magic.TF_MAX_DISCOUNT, min(magic.TF_MAX_BOOST, math.log2(u_exact / f)))
    return bits, f"{'rare' if bits >= 0 else 'common'} whole name ({bits:+.1f})"
