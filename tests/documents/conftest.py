"""A round of three offices whose figures are easy to work out by hand."""

from __future__ import annotations

import pytest

from cati.models import Answer
from tests.conftest import NOW
from tests.factories import create_member, create_office, create_round

DONG_HA = "Bộ phận một cửa thành phố Đông Hà"
CAM_LO = "Bộ phận một cửa huyện Cam Lộ"
HAI_LANG = "Bộ phận một cửa huyện Hải Lăng"

# office: (overall scores, paid without receipt answers) per complete member
ANSWERS = {
    # Đông Hà: overall 9 9 8 7 6 3 → mean 7,00, satisfied 4/6 = 66,7 %; paid 1/6 = 16,7 %
    "DH": ([9, 9, 8, 7, 6, 3], ["1", "2", "2", "2", "2", "2"]),
    # Cam Lộ: five 8s → mean 8,00, satisfied 100 %; nobody paid without a receipt
    "CL": ([8, 8, 8, 8, 8], ["2"] * 5),
    # Hải Lăng: two 9s (below CATI_REPORT_MIN_N = 5): greyed, unranked; paid 1/2 not flagged
    "HL": ([9, 9], ["1", "2"]),
}


@pytest.fixture
def survey_round(session):
    """13 completes: overall over all of them 9 9 8 7 6 3 8 8 8 8 8 9 9 → 100 / 13 = 7,69;
    satisfied (≥ 7) 11 / 13 = 84,6 %; paid without receipt 2 / 13 = 15,4 %."""
    round_ = create_round(session)
    for code, name in (("DH", DONG_HA), ("CL", CAM_LO), ("HL", HAI_LANG)):
        create_office(session, code, name)
    for code, (scores, paid) in ANSWERS.items():
        for score, paid_answer in zip(scores, paid, strict=True):
            member = create_member(session, round_, office_code=code, officer="Lê Thị Thu")
            member.disposition, member.status = "1.1", "final"
            values = {"consent": "1", "overall": str(score), "staff_attitude": str(score),
                      "paid_without_receipt": paid_answer, "on_time": "1"}  # fmt: skip
            for question, value in values.items():
                session.add(Answer(member_id=member.id, question_id=question, value=value,
                                   answered_at=NOW))  # fmt: skip
    session.flush()
    return round_
