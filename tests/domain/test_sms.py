"""The invitation SMS of a web round: unaccented Vietnamese, one GSM-7 message of at most 160
characters, naming the Sở and the office, the link, and how to decline; refused otherwise."""

from __future__ import annotations

import pytest

from cati.domain.sms import (
    MAX_LENGTH,
    SmsTextError,
    check_sms,
    gsm7_length,
    invitation_sms,
    is_opt_out_reply,
    short_office_names,
    unaccent,
)

TOKEN = "aB3dE5gH7jK9mN1pQ2rS4tU"  # 23 letters and digits


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Sở Nội vụ tỉnh Quảng Trị", "So Noi vu tinh Quang Tri"),
        ("Đồng Tháp", "Dong Thap"),
        ("đường Điện Biên Phủ", "duong Dien Bien Phu"),
        ("Ủy ban nhân dân xã Hải An", "Uy ban nhan dan xa Hai An"),
        ("Bộ phận Một cửa huyện Hải Lăng", "Bo phan Mot cua huyen Hai Lang"),
        ("ỹ ỵ ữ ự ằ ẵ ậ ề ễ ộ ờ ợ", "y y u u a a a e e o o o"),
        ("  Sở   Nội vụ \t", "So Noi vu"),  # spaces collapsed
        ("1900 1234", "1900 1234"),
        ("", ""),
    ],
)
def test_unaccent_removes_every_diacritic(text, expected):
    assert unaccent(text) == expected


@pytest.mark.parametrize(
    ("text", "length"),
    [
        ("So Noi vu", 9),
        ("https://x.vn/s/" + TOKEN, 38),
        ("a_b @ £ é", 9),  # in the basic set
        ("[1]", 5),  # the extension table: two septets each
        ("€", 2),
        ("Sở", None),  # accented Vietnamese is not GSM-7
        ("đ", None),
        ("“quoted”", None),
        ("", 0),
    ],
)
def test_gsm7_length(text, length):
    assert gsm7_length(text) == length


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("a" * 160, None),
        ("a" * 161, "161 characters"),
        ("a" * 159 + "[", "161 characters"),
        ("Sở Nội vụ", "GSM-7 does not have: 'ở'"),
    ],
)
def test_check_sms_refuses_what_is_not_one_gsm7_message(text, error):
    if error is None:
        assert check_sms(text) == text
    else:
        with pytest.raises(SmsTextError, match=error):
            check_sms(text)


def test_office_short_forms():
    assert short_office_names("Bộ phận Một cửa huyện Hải Lăng") == [
        "Bo phan Mot cua huyen Hai Lang",
        "BPMC huyen Hai Lang",
    ]
    assert short_office_names("Trung tâm Phục vụ hành chính công tỉnh") == [
        "Trung tam Phuc vu hanh chinh cong tinh",
        "TTPVHCC tinh",
    ]
    assert short_office_names("UBND xã Hải An") == ["UBND xa Hai An"]


@pytest.mark.parametrize(
    ("organisation", "office", "code", "url", "hotline", "office_as"),
    [
        ("Sở Nội vụ", "UBND xã Hải An", "HA", "https://ks.vn", "1900 1234", "UBND xa Hai An"),
        ("Sở Nội vụ tỉnh Quảng Trị", "Bộ phận Một cửa huyện Hải Lăng", "HL",
         "https://ks.quangtri.gov.vn", "1900 1234", "BPMC huyen Hai Lang"),
        ("Sở Nội vụ tỉnh Quảng Trị", "Trung tâm Phục vụ hành chính công tỉnh Quảng Trị",
         "TTHCC", "https://khaosat.quangtri.gov.vn", "0233 385 2123", "TTHCC"),
    ],
)  # fmt: skip
def test_invitation_fits_one_message_and_says_everything(
    organisation, office, code, url, hotline, office_as
):
    link = f"{url}/s/{TOKEN}"
    text = invitation_sms(organisation, office, code, link, hotline)
    assert gsm7_length(text) is not None and len(text) <= MAX_LENGTH
    assert text.startswith(unaccent(organisation) + " ")
    assert f" {office_as}: " in text
    assert f" {link} " in text  # the link alone between spaces, whole
    assert text.endswith(hotline)
    assert "Tu choi" in text or ("Khong" in text and "tham gia" in text)
    assert check_sms(text) == text


def test_the_fullest_wording_when_it_fits():
    text = invitation_sms("Sở Nội vụ", "UBND xã A", "A", "https://k.vn/s/" + TOKEN, "1900 1234")
    assert text == (
        "So Noi vu moi Ong/Ba danh gia viec giai quyet ho so tai UBND xa A: "
        f"https://k.vn/s/{TOKEN} Khong tham gia: bam nut tren trang hoac goi 1900 1234"
    )


@pytest.mark.parametrize(
    ("organisation", "url", "hotline", "error"),
    [
        ("Sở Nội vụ", "https://" + "k" * 120 + ".vn/s/" + TOKEN, "1900 1234", "characters"),
        ("Sở Nội vụ tỉnh " + "Quảng Trị " * 10, "https://k.vn/s/" + TOKEN, "1900", "characters"),
        ("Sở Nội vụ «Quảng Trị»", "https://k.vn/s/" + TOKEN, "1900 1234", "GSM-7"),
    ],
)
def test_an_invitation_that_cannot_fit_is_refused(organisation, url, hotline, error):
    with pytest.raises(SmsTextError, match=error):
        invitation_sms(organisation, "UBND xã Hải An", "HA", url, hotline)


@pytest.mark.parametrize(
    ("body", "declines"),
    [
        ("TC", True),
        ("tc", True),
        (" Tc. ", True),
        ("TU CHOI", True),
        ("Từ chối", True),
        ("từ  chối!", True),
        ("\nTU-CHOI\n", True),
        ("STOP", True),
        ("stop.", True),
        ("Stop!!", True),
        ("", False),
        ("OK", False),
        ("TCC", False),
        ("toi dong y", False),
        ("TC va gui lai", False),
        ("khong tu choi", False),
        (None, False),
    ],
)
def test_opt_out_replies(body, declines):
    assert is_opt_out_reply(body) is declines
