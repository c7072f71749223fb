"""The invitation SMS of a web round (issue 15, "push to web, then phone"), in pure Python.

In Vietnam an SMS comes from a registered brand name with a registered template, and brand
SMS for customer care is commonly written without accents: Vietnamese with its diacritics
needs UCS-2 (70 characters a message), unaccented it fits GSM-7 (160). The invitation is
therefore one GSM-7 message of at most 160 characters, never split (a link cut across two
messages is a known failure of peers, Surveda #904): it names the Sở and the office, gives the
link, and says that declining is one tap on the page or a call to the hotline. A text that
cannot be made to fit is refused (`SmsTextError`), never sent cut short.
"""

from __future__ import annotations

import re
import unicodedata

MAX_LENGTH = 160  # one GSM-7 message

# GSM 03.38: the basic character set (one septet each) and its extension table (two septets:
# the escape and the character).
GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = frozenset("^{}\\[~]|€\f")

# The wordings, the fullest first; the link stands alone between spaces (no punctuation glued
# to it that a phone could take as part of the link).
TEMPLATES = (
    "{sender} moi Ong/Ba danh gia viec giai quyet ho so tai {office}: {url} "
    "Khong tham gia: bam nut tren trang hoac goi {hotline}",
    "{sender} moi Ong/Ba danh gia ho so tai {office}: {url} "
    "Khong tham gia: bam nut tren trang/goi {hotline}",
    "{sender} xin y kien ve ho so tai {office}: {url} Tu choi: bam tren trang/goi {hotline}",
)

# Long words of office names and their usual short forms, longest first.
_SHORT_FORMS = (
    ("Trung tam Phuc vu hanh chinh cong", "TTPVHCC"),
    ("Bo phan tiep nhan va tra ket qua", "BPMC"),
    ("Bo phan Mot cua", "BPMC"),
    ("Uy ban nhan dan", "UBND"),
    ("thanh pho", "TP"),
    ("thi xa", "TX"),
)


class SmsTextError(ValueError):
    """The invitation cannot be written as one GSM-7 message of at most 160 characters."""


def unaccent(text: str) -> str:
    """Vietnamese without its diacritics: tones and vowel marks dropped, đ → d, Đ → D, and
    spaces collapsed."""
    text = text.replace("đ", "d").replace("Đ", "D")
    decomposed = unicodedata.normalize("NFD", text)
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(unicodedata.normalize("NFC", stripped).split())


def gsm7_length(text: str) -> int | None:
    """The message length in GSM-7 septets (extension characters count two), or None when a
    character is not in GSM-7 at all."""
    length = 0
    for char in text:
        if char in GSM7_BASIC:
            length += 1
        elif char in GSM7_EXTENSION:
            length += 2
        else:
            return None
    return length


def check_sms(text: str) -> str:
    """`text` if it is one GSM-7 message (at most 160 septets), else SmsTextError saying why."""
    length = gsm7_length(text)
    if length is None:
        bad = next(c for c in text if c not in GSM7_BASIC and c not in GSM7_EXTENSION)
        raise SmsTextError(f"the SMS has a character GSM-7 does not have: {bad!r}")
    if length > MAX_LENGTH:
        raise SmsTextError(f"the SMS is {length} characters, more than {MAX_LENGTH}")
    return text


def short_office_names(name: str) -> list[str]:
    """The office's name unaccented, then shorter forms of it (usual abbreviations), without
    repeats: the first that fits the message is used."""
    full = unaccent(name)
    short = full
    for long, abbreviation in _SHORT_FORMS:
        short = re.sub(re.escape(long), abbreviation, short, flags=re.IGNORECASE)
    return list(dict.fromkeys([full, short]))


def invitation_sms(organisation: str, office_name: str, office_code: str, url: str,
                   hotline: str) -> str:  # fmt: skip
    """The invitation: who asks (the Sở), about which office, the link, and how to decline.

    The office is named in full if it fits, else in its short form, else by its code;
    SmsTextError when even that does not fit in one GSM-7 message (a long CATI_PUBLIC_URL or
    CATI_ORGANISATION) or a part is not GSM-7 after removing accents."""
    sender, phone = unaccent(organisation), unaccent(hotline)
    text = ""
    for office in [*short_office_names(office_name), unaccent(office_code)]:
        for template in TEMPLATES:
            text = template.format(sender=sender, office=office, url=url, hotline=phone)
            length = gsm7_length(text)
            if length is not None and length <= MAX_LENGTH:
                return text
    return check_sms(text)  # raises, saying why


OPT_OUT_REPLIES = frozenset({"TC", "TU CHOI", "STOP"})


def is_opt_out_reply(body: str) -> bool:
    """A reply that declines: `TC`, `TU CHOI` or `STOP`, whatever the case and accents
    ("Từ chối"), with spaces and punctuation around or between the words ignored."""
    words = re.findall(r"[A-Z0-9]+", unaccent(body or "").upper())
    return " ".join(words) in OPT_OUT_REPLIES
