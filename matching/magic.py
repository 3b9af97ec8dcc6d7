"""Every tuning constant of the matching engine, in one commented module.

Sections: normalisation and names; dates and documents; model, blocking and index.
Change a constant here, re-run `python -m matching evaluate` and bench/, and record the figures in
docs/matching.md.
"""

# --- names (normalisation, transliteration, name comparison) ---------------------------------------
# Normalisation (matching/normalize.py). Longer input is cut before any work (a name field allows 200).
NAME_INPUT_MAX = 512
# Honorifics, as folded token sequences, dropped at the start of a name when something remains.
# Longest first so that "lok srey" wins over "lok". English; Khmer (lok, lok srey, neak, kanha); Thai (nai,
# nang, nangsao, dek chai, dek ying); Vietnamese (ong, ba, anh, chi, co, from ong/ba/anh/chi/co).
NAME_TITLES_LATIN: tuple[tuple[str, ...], ...] = (
    ("lok", "srey"), ("lok", "srei"), ("louk", "srey"), ("dek", "chai"), ("dek", "ying"), ("nangsao",),
    ("mr",), ("mrs",), ("ms",), ("miss",), ("dr",), ("lok",), ("louk",), ("neak",), ("kanha",),
    ("nai",), ("nang",), ("ong",), ("ba",), ("anh",), ("chi",), ("co",),
)
# Titles that are also given names (Vietnamese Anh, Chi, Co, Ba, Ong): dropped only when two tokens remain.
NAME_TITLES_AMBIGUOUS = frozenset({("anh",), ("chi",), ("co",), ("ba",), ("ong",), ("nang",), ("nai",)})
# Native-script honorifics stripped from the front of Khmer/Thai text before romanisation (longest first).
NAME_TITLES_NATIVE = ("លោកស្រី", "លោក", "អ្នកស្រី", "អ្នក", "កញ្ញា", "เด็กหญิง", "เด็กชาย", "นางสาว", "นาย", "นาง")

# Transliteration (matching/translit.py): cache sizes (the index transliterates ~1M names) and the longest
# Thai word given to the seq2seq model (a name part is far shorter; longer input is cut).
TRANSLIT_CACHE_SIZE = 1 << 18
TRANSLIT_MAX_WORD = 40
# pythainlp engine for Thai: "thai2rom_onnx" (RTGS-exact 0.81, ~3 ms a new word) or "royin" (0.49, ~0.7 ms).
TRANSLIT_THAI_ENGINE = "thai2rom_onnx"

# Name comparison (matching/names.py). At most this many tokens of one name are kept.
NAME_MAX_TOKENS = 8
# Token similarity given to equal phonetic codes, and to an initial that matches a token's first letter.
NAME_PHONETIC_SIM = 0.95
NAME_INITIAL_SIM = 0.87
# Every aligned token at least this similar (mean of Jaro-Winkler and normalised Levenshtein): "fuzzy".
NAME_TOKEN_CLOSE = 0.80
# Joined names at least this Jaro-Winkler-similar, with no token agreeing: "weak".
NAME_WHOLE_WEAK = 0.85
# Phonetic codes shorter than this are not blocked on (too many people share "s" or "la").
NAME_BLOCK_MIN_CODE = 2
# Each name shown in a name feature's detail is cut to this many characters.
NAME_DETAIL_CHARS = 30

# --- dates, documents and other fields --------------------------------------------------------------
# Birth dates (matching/dates.py). Years before this are reported as implausible for a living person;
# clean_partial_date refuses anything before 1850 at the API, the matcher still reads such dates leniently.
BIRTH_YEAR_PLAUSIBLE_MIN = 1900
# "year_near": the years differ by at most this much (ages given instead of dates are often off by one).
BIRTH_YEAR_NEAR = 1
# Similarity reported with each date level (the model learns its own weights per level; these are for people).
DATE_SCORES = {"exact": 1.0, "swapped": 0.9, "compatible_month": 0.85, "typo": 0.8,
               "compatible_year": 0.6, "year_near": 0.4, "dates_differ": 0.2, "year_typo": 0.2,
               "disagree": 0.0}

# Travel and identity documents (matching/documents.py).
# Numbers shorter than this (after removing separators) are too easy to share by chance: ignored.
DOC_NUMBER_MIN_LEN = 5
# "near" (one edit or one swap of neighbours) is only trusted for numbers at least this long.
DOC_NEAR_MIN_LEN = 6
# Placeholders clerks type when they have no number; treated as no document.
DOC_PLACEHOLDERS = frozenset({"NONE", "NULL", "UNKNOWN", "NA", "NIL", "XXXXX", "TBA", "PENDING"})
# OCR confusions folded to one character before comparing ("N12345G7" == "N1234567").
DOC_OCR_FOLD = {"O": "0", "Q": "0", "D": "0", "I": "1", "L": "1", "Z": "2", "S": "5", "G": "6", "B": "8"}
# Blocking on the digits alone (partners drop letter prefixes) needs at least this many digits.
DOC_BLOCK_DIGITS_MIN = 6
DOC_SCORES = {"exact": 1.0, "same_number": 0.95, "ocr": 0.85, "near": 0.6, "different": 0.0}

# Sex, nationality and address (matching/other.py).
# rapidfuzz ratios (0-100) from which two localities or two address lines count as the same.
ADDRESS_LOCALITY_MIN = 90.0
ADDRESS_LINE_MIN = 85.0

# Birth place (matching/places.py). Longer input is cut before any work.
PLACE_INPUT_MAX = 200
# Administrative words written in Khmer or Thai script, glued to the place name: cut before romanising
# (Khmer province, capital, city, district; Thai province, district).
PLACE_ADMIN_NATIVE = ("ខេត្ត", "រាជធានី", "ក្រុង", "ស្រុក", "จังหวัด", "อำเภอ")
# Administrative and country words, folded, dropped as whole words while something remains: English;
# Khmer (khet, reach theani, krong, srok); Thai (changwat, amphoe); Vietnamese (tinh, thanh pho, tp).
PLACE_ADMIN_WORDS = frozenset({
    "province", "city", "capital", "district", "town", "municipality", "khet", "reach theani", "krong", "srok",
    "changwat", "amphoe", "tinh", "thanh pho", "tp", "cambodia", "kingdom of cambodia", "thailand", "vietnam",
    "viet nam",
})
# Other names of a place, as joined folded forms (what Khmer/Thai script romanises to included).
PLACE_ALIASES = {
    "saigon": "hochiminh", "sg": "hochiminh", "hcm": "hochiminh", "hcmc": "hochiminh",
    "krungthep": "bangkok", "krungtheppa": "bangkok", "krungthephomhankhon": "bangkok",
    "krungthepmahanakhon": "bangkok", "takaev": "takeo", "kampongsom": "sihanoukville",
    "preahsihanouk": "sihanoukville", "paoypaet": "poipet",
}
# Joined forms (or their phonetic codes) at least this rapidfuzz-similar (0-100) are "similar" places.
# The closest pair of different places in the cross-border generator's list scores 73 (Takeo / Sa Kaeo).
PLACE_SIMILAR_MIN = 80.0
# The folded place shown in a detail is cut to this many characters.
PLACE_DETAIL_CHARS = 30

# --- model, blocking and candidate index ------------------------------------------------------------
# Scoring model (matching/model.py, matching/train.py).
# Floor for m and u before taking log2(m/u), and the largest weight one level may carry (bits): no single
# feature may decide a match alone, however rare its agreement was in training.
MIN_PROBABILITY = 1e-6
MAX_LEVEL_WEIGHT = 14.0
# Two different birth places weigh at least this much (bits). The training data never writes one person's birth
# place two ways, so it learns -11.5; real registers do (a district against its province, the hospital town
# against the home village), and a true match must not be lost to that. F1 on the cross-border set is the same
# (0.914) at -5 as at -11.5 (docs/matching.md).
BIRTH_PLACE_MIN_WEIGHT = -5.0
# No refinement of a name level (matching/name_parts.py) weighs less than this (bits). The cross-border generator
# never drops or adds a middle name in a true pair, so training learns -3.5 for "extra_part" (Nguyen Van Duc /
# Nguyen Duc) from febrl3's 2 % alone; real registers drop middle and second given names more often, and a true
# match must not be lost to that. Cross-border F1 (seed 7) with the floor 0.920, learned about 0.922 (docs/matching.md).
NAME_PARTS_MIN_WEIGHT = -1.0
# Pseudo-counts when estimating u (random pairs) and m (EM), so an unseen level is not impossible.
U_PSEUDO_COUNT = 0.5
M_PSEUDO_COUNT = 0.05
# Random record pairs drawn per training data set to estimate u.
U_RANDOM_PAIRS = 40_000
# EM starts from this share of matches among candidate pairs.
EM_START_PRIOR = 0.2
# Term frequency (matching/frequency.py, Model.score_above). Below this many indexed records, no adjustment.
TF_MIN_RECORDS = 1000
# The weak-name discount: tokens in fewer than this share of the indexed records get no discount.
TF_MIN_FREQUENCY = 0.002
# No term-frequency adjustment takes more than this many bits off a name agreement ...
TF_MAX_DISCOUNT = 4.0
# ... or adds more than this many to an exact one (a whole name rarer than the average agreeing name). One record
# holding a name says "rare", not how rare: in a register of a million, log2(u_exact / f) would reach +9 bits.
# At the 2,000-odd records of the evaluation sets the boost never exceeds +0.4, so this bound is not tuned on them.
TF_MAX_BOOST = 2.0
# The name levels adjusted: those whose agreement is the shared tokens themselves, all of them ("exact": by the
# frequency of the shared whole name, both ways; by the rarest shared token, discount only, when the whole-name
# frequency is unknown) or one part ("weak": discount by the shared token; a common family name is what relatives
# and strangers share). "strong" and "fuzzy" agree by sound or spelling, whose chance the frequency of one
# spelling does not measure (a whole-sound frequency for "strong" was tried: docs/matching.md).
TF_NAME_LEVELS = frozenset({"exact", "weak"})

# Blocking and the candidate index (matching/index.py).
# A posting list longer than this is skipped at query time (compound keys cover it).
BLOCK_CAP = 2000
# Document numbers at least this long are also filed under their sorted characters (transpositions).
DOC_SORTED_MIN = 7
# Tokens of a record's first name (sorted) used for compound keys (token+birth year, token pairs).
COMPOUND_MAX_TOKENS = 4
# Posting lists this short are always taken whole (document numbers, birth date, rare name pairs).
SMALL_BLOCK = 10
# From the longer lists, a query scores at most this many records (those sharing the most keys with it),
# and a batch link at most this many per left record.
QUERY_MAX_CANDIDATES = 50
LINK_MAX_CANDIDATES = 20
# Default probability from which an online query reports a candidate.
QUERY_THRESHOLD = 0.1
# Long batch runs report progress at most this often (seconds).
PROGRESS_SECONDS = 3.0
# Processes a batch link uses at most (`python -m matching link --workers N`; 1 scores in this process).
LINK_MAX_WORKERS = 8
