"""Every tuning constant of the matching engine, in one commented module.

Sections: normalisation and names; dates and documents; model, blocking and index.
Change a constant here, re-run `python -m matching evaluate` and bench/, and record the figures in
docs/matching.md.
"""

# --- names (normalisation, transliteration, name comparison) ---------------------------------------

# --- dates, documents and other fields --------------------------------------------------------------

# --- model, blocking and candidate index ------------------------------------------------------------
