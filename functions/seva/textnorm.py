"""Text as a reader sees it: compatibility forms folded, invisible format characters gone.

Citizens (and spammers) write 𝐁𝐀𝐂𝐇𝐀𝐎 in mathematical bold, ＦＵＬＬＷＩＤＴＨ letters, or split words and
phone numbers with zero-width spaces and soft hyphens. Triage and SMS redaction must see the plain text, so
both start here: NFKC, then every format character (Unicode category Cf) is dropped. Pure and cheap: ASCII
text, the common case, is returned as it is.
"""

from __future__ import annotations

import re
import unicodedata

# Unicode 15.1's category Cf, as ranges (computing it at import would walk 1.1M code points on cold start;
# a unit test checks it against the running Python's Unicode database).
FORMAT_CHARACTERS = re.compile(
    "[\u00ad\u0600-\u0605\u061c\u06dd\u070f\u0890-\u0891\u08e2\u180e\u200b-\u200f\u202a-\u202e"
    "\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb\U000110bd\U000110cd\U00013430-\U0001343f"
    "\U0001bca0-\U0001bca3\U0001d173-\U0001d17a\U000e0001\U000e0020-\U000e007f]"
)


def normalise(text: str) -> str:
    """NFKC, then without format characters (zero-width spaces and joiners, soft hyphens, bidi controls)."""
    if text.isascii():
        return text
    return FORMAT_CHARACTERS.sub("", unicodedata.normalize("NFKC", text))
