"""Tests for cati.phone: formats, legacy prefixes, types, masking, and a
property test that the fast path agrees with plain ``phonenumbers``."""

from __future__ import annotations

import dataclasses
import re

import phonenumbers
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from phonenumbers import NumberParseException, PhoneNumberFormat, PhoneNumberType

from cati import phone
from cati.phone import (
    NormalizedPhone,
    PhoneType,
    convert_legacy_mobile,
    mask_phone,
    normalize_phone,
)

M, L, OTH, INV, MISS = (
    PhoneType.MOBILE,
    PhoneType.LANDLINE,
    PhoneType.OTHER,
    PhoneType.INVALID,
    PhoneType.MISSING,
)

# --------------------------------------------------------------------------
# Reference implementation: plain phonenumbers, after legacy conversion.
# Written independently of cati.phone on purpose.
# --------------------------------------------------------------------------

# Old national significant prefix -> new, from the 2018 migration table.
REF_LEGACY = {
    "162": "32",
    "163": "33",
    "164": "34",
    "165": "35",
    "166": "36",
    "167": "37",
    "168": "38",
    "169": "39",
    "120": "70",
    "121": "79",
    "122": "77",
    "126": "76",
    "128": "78",
    "123": "83",
    "124": "84",
    "125": "85",
    "127": "81",
    "129": "82",
    "186": "56",
    "188": "58",
    "199": "59",
}
REF_LEGACY_RE = re.compile(r"(?:\+84|0084|84)?0?(1\d\d)(\d{7})")


def reference(raw: str | int | None) -> NormalizedPhone:
    """What normalize_phone must return, computed the slow, obvious way."""
    if raw is None:
        return NormalizedPhone(None, MISS)
    text = str(raw)
    if not text.strip():
        return NormalizedPhone(None, MISS)
    compact = re.sub(r"[^\d+]", "", text)
    compact = "".join(c if c == "+" else str(int(c)) for c in compact)  # any-script digits
    m = REF_LEGACY_RE.fullmatch(compact)
    if m and m.group(1) in REF_LEGACY:
        text = "+84" + REF_LEGACY[m.group(1)] + m.group(2)
    try:
        num = phonenumbers.parse(text, "VN")
    except NumberParseException:
        return NormalizedPhone(None, INV)
    if not phonenumbers.is_valid_number(num):
        return NormalizedPhone(None, INV)
    e164 = phonenumbers.format_number(num, PhoneNumberFormat.E164)
    if num.country_code != 84:
        return NormalizedPhone(e164, OTH)
    kind = phonenumbers.number_type(num)
    if kind == PhoneNumberType.MOBILE:
        return NormalizedPhone(e164, M)
    if kind in (PhoneNumberType.FIXED_LINE, PhoneNumberType.FIXED_LINE_OR_MOBILE):
        return NormalizedPhone(e164, L)
    return NormalizedPhone(e164, OTH)


# --------------------------------------------------------------------------
# Table-driven cases
# --------------------------------------------------------------------------

FORMAT_CASES = [
    pytest.param("0912345678", "+84912345678", M, id="national-plain"),
    pytest.param("0912 345 678", "+84912345678", M, id="national-spaces"),
    pytest.param("0912.345.678", "+84912345678", M, id="national-dots"),
    pytest.param("0912-345-678", "+84912345678", M, id="national-dashes"),
    pytest.param("0912\u00a0345\u00a0678", "+84912345678", M, id="national-nbsp"),
    pytest.param("0912 / 345 678", "+84912345678", M, id="national-slash"),
    pytest.param("(0233) 3852 123", "+842333852123", L, id="landline-quang-tri-parens"),
    pytest.param("0233 3852 123", "+842333852123", L, id="landline-quang-tri"),
    pytest.param("024 3825 1234", "+842438251234", L, id="landline-hanoi"),
    pytest.param("+84 912 345 678", "+84912345678", M, id="plus84-spaces"),
    pytest.param("+84912345678", "+84912345678", M, id="plus84-e164"),
    pytest.param("(+84) 912 345 678", "+84912345678", M, id="plus84-parens"),
    pytest.param("+84 (0) 912 345 678", "+84912345678", M, id="plus84-national-zero"),
    pytest.param("+84 233 3852 123", "+842333852123", L, id="plus84-landline"),
    pytest.param("84912345678", "+84912345678", M, id="cc84-no-plus"),
    pytest.param("842333852123", "+842333852123", L, id="cc84-no-plus-landline"),
    pytest.param("0084912345678", "+84912345678", M, id="idd0084"),
    pytest.param("0084 233 3852 123", "+842333852123", L, id="idd0084-landline"),
    pytest.param("912345678", "+84912345678", M, id="lost-leading-zero-str"),
    pytest.param(912345678, "+84912345678", M, id="lost-leading-zero-int"),
    pytest.param(2333852123, "+842333852123", L, id="landline-int"),
    pytest.param("849123456", "+84849123456", M, id="084-mobile-lost-zero-not-cc"),
    pytest.param("  0912345678  ", "+84912345678", M, id="surrounding-spaces"),
    pytest.param("\t0912 345 678\n", "+84912345678", M, id="surrounding-whitespace"),
    pytest.param("01662345678", "+84362345678", M, id="legacy-national"),
    pytest.param("0166 234 5678", "+84362345678", M, id="legacy-national-spaces"),
    pytest.param("+841662345678", "+84362345678", M, id="legacy-plus84"),
    pytest.param("841662345678", "+84362345678", M, id="legacy-cc84"),
    pytest.param("00841662345678", "+84362345678", M, id="legacy-idd0084"),
    pytest.param(1662345678, "+84362345678", M, id="legacy-int-lost-zero"),
    pytest.param("1800 1234", "+8418001234", OTH, id="toll-free-8-digit"),
    pytest.param("1800 123 456", "+841800123456", OTH, id="toll-free-10-digit"),
    pytest.param("1900 1234", "+8419001234", OTH, id="premium-rate"),
    pytest.param("0672 123 456", "+84672123456", OTH, id="voip"),
    pytest.param("+1 650 253 0000", "+16502530000", OTH, id="foreign-us"),
    pytest.param("+44 20 7946 0958", "+442079460958", OTH, id="foreign-uk"),
    pytest.param(
        "\uff10\uff19\uff11\uff12\uff13\uff14\uff15\uff16\uff17\uff18",
        "+84912345678",
        M,
        id="fullwidth-digits-fallback",
    ),
]

INVALID_CASES = [
    pytest.param("abc", id="letters"),
    pytest.param("123", id="too-short"),
    pytest.param("09123", id="truncated-mobile"),
    pytest.param("091234567", id="mobile-one-digit-short"),
    pytest.param("09123456789", id="mobile-one-digit-long"),
    pytest.param("0992123456", id="unassigned-0992"),
    pytest.param("0100000000", id="unassigned-010"),
    pytest.param("0", id="zero"),
    pytest.param("+", id="plus-only"),
    pytest.param("+84", id="cc-only"),
    pytest.param("---", id="separators-only"),
    pytest.param("0912\t345678", id="tab-inside-not-punctuation"),
    pytest.param("0912345678901234567890", id="far-too-long"),
    pytest.param("x" * 300, id="huge-garbage"),
    pytest.param(123, id="int-too-short"),
]

MISSING_CASES = [
    pytest.param(None, id="none"),
    pytest.param("", id="empty"),
    pytest.param("   ", id="spaces"),
    pytest.param("\t\n ", id="whitespace"),
    pytest.param("\u00a0", id="nbsp"),
]


@pytest.mark.parametrize(("raw", "e164", "kind"), FORMAT_CASES)
def test_formats(raw, e164, kind):
    result = normalize_phone(raw)
    assert result == NormalizedPhone(e164, kind)
    assert result == reference(raw)


@pytest.mark.parametrize("raw", INVALID_CASES)
def test_invalid(raw):
    result = normalize_phone(raw)
    assert result == NormalizedPhone(None, INV)
    assert not result.is_callable
    assert result == reference(raw)


@pytest.mark.parametrize("raw", MISSING_CASES)
def test_missing(raw):
    result = normalize_phone(raw)
    assert result == NormalizedPhone(None, MISS)
    assert not result.is_callable


# One subscriber number per legacy prefix, in every written form.
LEGACY_TABLE = [
    # carrier, old, new
    ("viettel", "0162", "032"),
    ("viettel", "0163", "033"),
    ("viettel", "0164", "034"),
    ("viettel", "0165", "035"),
    ("viettel", "0166", "036"),
    ("viettel", "0167", "037"),
    ("viettel", "0168", "038"),
    ("viettel", "0169", "039"),
    ("mobifone", "0120", "070"),
    ("mobifone", "0121", "079"),
    ("mobifone", "0122", "077"),
    ("mobifone", "0126", "076"),
    ("mobifone", "0128", "078"),
    ("vinaphone", "0123", "083"),
    ("vinaphone", "0124", "084"),
    ("vinaphone", "0125", "085"),
    ("vinaphone", "0127", "081"),
    ("vinaphone", "0129", "082"),
    ("vietnamobile", "0186", "056"),
    ("vietnamobile", "0188", "058"),
    ("gmobile", "0199", "059"),
]
LEGACY_FORMS = [
    ("national", lambda old, sub: f"{old}{sub}"),
    ("national-spaced", lambda old, sub: f"{old} {sub[:3]} {sub[3:]}"),
    ("plus84", lambda old, sub: f"+84{old[1:]}{sub}"),
    ("plus84-spaced", lambda old, sub: f"+84 {old[1:]} {sub[:3]} {sub[3:]}"),
    ("cc84", lambda old, sub: f"84{old[1:]}{sub}"),
    ("idd0084", lambda old, sub: f"0084{old[1:]}{sub}"),
    ("int-lost-zero", lambda old, sub: int(f"{old}{sub}")),
]
LEGACY_CASES = [
    pytest.param(carrier, old, new, form, id=f"{carrier}-{old}-{name}")
    for carrier, old, new in LEGACY_TABLE
    for name, form in LEGACY_FORMS
]


@pytest.mark.parametrize(("carrier", "old", "new", "form"), LEGACY_CASES)
def test_legacy_mobile(carrier, old, new, form):
    sub = "2345678"
    result = normalize_phone(form(old, sub))
    assert result == NormalizedPhone(f"+84{new[1:]}{sub}", M)
    assert result.is_callable
    assert convert_legacy_mobile(f"{old}{sub}") == f"{new}{sub}"


def test_legacy_table_matches_module():
    assert {old: new for _, old, new in LEGACY_TABLE} == phone.LEGACY_MOBILE_PREFIXES
    assert {old[1:]: new[1:] for _, old, new in LEGACY_TABLE} == REF_LEGACY


@pytest.mark.parametrize(
    ("digits", "expected"),
    [
        pytest.param("01662345678", "0362345678", id="viettel"),
        pytest.param("01202345678", "0702345678", id="mobifone"),
        pytest.param("01232345678", "0832345678", id="vinaphone"),
        pytest.param("01862345678", "0562345678", id="vietnamobile"),
        pytest.param("01992345678", "0592345678", id="gmobile"),
        pytest.param("0362345678", "0362345678", id="already-new"),
        pytest.param("01612345678", "01612345678", id="0161-not-a-legacy-prefix"),
        pytest.param("0166234567", "0166234567", id="too-short"),
        pytest.param("016623456789", "016623456789", id="too-long"),
        pytest.param("+841662345678", "+841662345678", id="international-unchanged"),
        pytest.param("1662345678", "1662345678", id="no-leading-zero-unchanged"),
        pytest.param("0166 234 5678", "0166 234 5678", id="separators-unchanged"),
        pytest.param("", "", id="empty"),
    ],
)
def test_convert_legacy_mobile(digits, expected):
    assert convert_legacy_mobile(digits) == expected


@pytest.mark.parametrize(
    ("raw", "callable_"),
    [
        pytest.param("0912345678", True, id="mobile"),
        pytest.param("02333852123", True, id="landline"),
        pytest.param("1800 1234", False, id="toll-free"),
        pytest.param("1900 1234", False, id="premium"),
        pytest.param("+1 650 253 0000", False, id="foreign"),
        pytest.param("abc", False, id="invalid"),
        pytest.param(None, False, id="missing"),
    ],
)
def test_is_callable(raw, callable_):
    assert normalize_phone(raw).is_callable is callable_


@pytest.mark.parametrize(
    ("e164", "masked"),
    [
        pytest.param("+84912345678", "091****678", id="mobile"),
        pytest.param("+84362345678", "036****678", id="mobile-converted-legacy"),
        pytest.param("+842333852123", "023*****123", id="landline"),
        pytest.param("+16502530000", "+16******000", id="foreign"),
        pytest.param("+841234", "*****", id="very-short"),
        pytest.param(None, "", id="none"),
        pytest.param("", "", id="empty"),
    ],
)
def test_mask_phone(e164, masked):
    assert mask_phone(e164) == masked


def test_mask_keeps_length_of_national_form():
    e164 = normalize_phone("0912 345 678").e164
    assert len(mask_phone(e164)) == len("0912345678")


def test_result_is_frozen_and_slotted():
    result = normalize_phone("0912345678")
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.e164 = "+84000000000"  # type: ignore[misc]
    assert not hasattr(result, "__dict__")


def test_phone_type_values():
    assert [t.value for t in PhoneType] == ["mobile", "landline", "other", "invalid", "missing"]
    assert PhoneType.MOBILE == "mobile"


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param(9.12345678e8, id="float"),
        pytest.param(True, id="bool"),
        pytest.param(b"0912345678", id="bytes"),
    ],
)
def test_rejects_other_types(raw):
    with pytest.raises(TypeError):
        normalize_phone(raw)  # type: ignore[arg-type]


FAST_PATH_INPUTS = [
    "0912345678",
    "0912 345 678",
    "0912.345.678",
    "0912-345-678",
    "(0233) 3852 123",
    "+84 912 345 678",
    "84912345678",
    "0084912345678",
    "912345678",
    912345678,
    "01662345678",
    "+841662345678",
    "841662345678",
    "  0912345678 ",
    "1800 1234",
    "123",
    "09123",
    "",
]


@pytest.mark.parametrize("raw", FAST_PATH_INPUTS, ids=repr)
def test_common_formats_never_call_phonenumbers_parse(raw, monkeypatch):
    expected = reference(raw)

    def boom(*args, **kwargs):
        raise AssertionError("fast path fell back to phonenumbers.parse")

    monkeypatch.setattr(phonenumbers, "parse", boom)
    assert normalize_phone(raw) == expected


def test_separator_helper_removes_exactly_the_declared_characters():
    assert phone._strip_separators(phone._SEPARATOR_CHARS * 2 + "0+9\t") == "0+9\t"


# --------------------------------------------------------------------------
# Agreement with phonenumbers
# --------------------------------------------------------------------------


def test_classifier_agrees_on_every_four_digit_prefix():
    """Every 4-digit NSN prefix at every possible length, national form."""
    mismatches = []
    for prefix in range(1000, 10000):
        for length in (7, 8, 9, 10):
            tail_len = length - 4
            tail = str(prefix * 7919 % 10**tail_len).zfill(tail_len)
            raw = f"0{prefix}{tail}"
            got, want = normalize_phone(raw), reference(raw)
            if got != want:
                mismatches.append((raw, got, want))
    assert mismatches == []


MOBILE_PREFIXES = [
    "32",
    "33",
    "35",
    "39",
    "52",
    "56",
    "58",
    "59",
    "70",
    "76",
    "77",
    "79",
    "81",
    "84",
    "86",
    "88",
    "89",
    "90",
    "91",
    "94",
    "96",
    "98",
    "99",
    "121",
    "140",
]
LANDLINE_PREFIXES = ["24", "28", "233", "234", "236", "203", "290", "299", "211", "257"]
SPECIAL_PREFIXES = ["1800", "1900", "672", "1999", "7999", "69", "1201", "1228"]
SEPARATORS = [" ", " ", " ", ".", "-", "(", ")", "\u00a0", "/", "\u2013"]
JUNK = ["\t", "+", "x", "*", "#", ","]
VN_PREFIXES = ["", "0", "0 ", "+84", "+84 ", "84", "0084", "(+84) ", "+84 (0) ", "840"]
ODD_PREFIXES = ["00840", "8400", "00", "+", "+1", "+44", "0084 0"]


def _digits(n: int):
    return st.text(alphabet="0123456789", min_size=n, max_size=n)


@st.composite
def vn_like(draw):
    """A VN-like phone string: prefix + national body, with random separators."""
    kind = draw(st.sampled_from(["mobile", "landline", "legacy", "special", "junk"]))
    if kind == "mobile":
        start = draw(st.sampled_from(MOBILE_PREFIXES))
        body = start + draw(_digits(9 - len(start)))
    elif kind == "landline":
        start = draw(st.sampled_from(LANDLINE_PREFIXES))
        body = start + draw(_digits(10 - len(start)))
    elif kind == "legacy":
        start = draw(st.sampled_from([*sorted(REF_LEGACY), "161", "170", "189"]))
        body = start + draw(_digits(7))
    elif kind == "special":
        start = draw(st.sampled_from(SPECIAL_PREFIXES))
        body = start + draw(st.text(alphabet="0123456789", min_size=2, max_size=7))
    else:
        body = draw(st.text(alphabet="0123456789", min_size=0, max_size=15))
    # Occasionally drop or add a digit to probe the length rules.
    tweak = draw(st.sampled_from(["keep"] * 8 + ["drop", "add"]))
    if tweak == "drop" and body:
        body = body[:-1]
    elif tweak == "add":
        body += draw(_digits(1))
    text = draw(st.sampled_from(VN_PREFIXES * 3 + ODD_PREFIXES)) + body
    # Separators: none, one kind throughout, a random mix, or (rarely) junk that
    # phonenumbers does not treat as punctuation and so forces the fallback.
    style = draw(st.sampled_from(["none", "none", "one", "one", "mix", "junk"]))
    if style != "none":
        pool = {
            "one": [draw(st.sampled_from(SEPARATORS))],
            "mix": SEPARATORS,
            "junk": SEPARATORS + JUNK,
        }[style]
        out = []
        for ch in text:
            out.append(ch)
            if draw(st.integers(0, 3)) == 0:
                out.append(draw(st.sampled_from(pool)))
        text = "".join(out)
    pad = draw(st.sampled_from(["", "", " ", "  ", "\t", "\u00a0"]))
    text = pad + text + draw(st.sampled_from(["", "", " ", "\n"]))
    if draw(st.booleans()) and text.isdigit() and text[0] != "0":
        return int(text)
    return text


@settings(max_examples=3000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(vn_like())
@example("8400912345678")  # phonenumbers strips the national 0 twice here
@example("8418001234")  # 84 + 8 digits: phonenumbers reads 84 as the country code
@example("+8401662345678")
@example("00 84 0 233 3852 123")
@example("0166\t2345678")
@example(1662345678)
def test_fast_path_agrees_with_phonenumbers(raw):
    assert normalize_phone(raw) == reference(raw)


@settings(max_examples=500, deadline=None)
@given(st.text(max_size=20))
def test_arbitrary_text_never_crashes_and_agrees(raw):
    assert normalize_phone(raw) == reference(raw)
