"""What the documents say: ranks, greyed low-n figures, warnings, headline figures."""

from __future__ import annotations

import re

import pytest

from cati.documents import model
from cati.services.flows import load_flows
from cati.services.reports import round_report
from tests.conftest import TZ
from tests.documents.conftest import CAM_LO, DONG_HA, HAI_LANG
from tests.services.test_reports import web_round_then_ivr


@pytest.fixture
def doc(session, settings, survey_round):
    flows = load_flows(settings.flows_dir)
    report = round_report(session, survey_round.id, flows, TZ)
    return model.round_document(report, flows["mscore"], model.Options())


def test_offices_are_ranked_by_overall_and_low_n_ones_come_last_unranked(doc):
    rows = [(r["rank"], r["name"], r["grey"]) for r in doc["offices"]]
    # Cam Lộ 8,00 before Đông Hà 7,00; Hải Lăng's 9,00 from two answers is not ranked.
    assert rows == [("1", CAM_LO, False), ("2", DONG_HA, False), ("–", HAI_LANG, True)]
    hai_lang = doc["offices"][2]
    assert all(cell.grey and not cell.warn for cell in hai_lang["cells"] if cell.text != "–")


def test_warnings_flag_only_offices_with_enough_answers_and_state_each_threshold(doc):
    # Đông Hà: 1 of 6 paid without a receipt, 16,7 % > 1,0 %; Hải Lăng's 50 % is from 2.
    assert doc["warnings"]["items"] == [
        {"office": DONG_HA, "flags": ["Nộp tiền không có biên lai 16,7\u00a0% (6 câu trả lời)"]}
    ]
    legend = " ".join(doc["warnings"]["legend"])
    assert "trên 1,0\u00a0% (CATI_WARN_PAID_WITHOUT_RECEIPT)" in legend
    assert "trên 10,0\u00a0% (CATI_WARN_ASKED_TO_RETURN)" in legend
    assert "dưới 90,0\u00a0% (CATI_WARN_ON_TIME_BELOW)" in legend
    assert "ít nhất 5 câu trả lời (CATI_REPORT_MIN_N)" in legend


def test_headline_figures_in_vietnamese_formats(doc):
    items = {item["label"]: item for item in doc["headline"]}
    assert items["Số người trong mẫu"]["value"] == "13"
    assert items["Hoàn thành khảo sát"]["value"] == "13"
    assert items["Tỷ lệ trả lời"]["value"] == "100,0\u00a0%"
    assert "AAPOR RR1" in items["Tỷ lệ trả lời"]["note"]
    overall = items["Hài lòng chung: điểm trung bình"]
    assert overall["value"] == "7,69 / 9"  # 100 / 13
    assert overall["note"].startswith("hài lòng (7–9 điểm): 84,6\u00a0%")  # 11 / 13
    paid = items["Nộp tiền không có biên lai: tỷ lệ trả lời “có”"]
    assert paid["value"] == "15,4\u00a0%"  # 2 / 13


def test_a_higher_minimum_greys_and_unranks_more(session, settings, survey_round):
    flows = load_flows(settings.flows_dir)
    report = round_report(session, survey_round.id, flows, TZ)
    doc = model.round_document(report, flows["mscore"], model.Options(min_n=6))
    assert [(r["rank"], r["name"]) for r in doc["offices"]] == [
        ("1", DONG_HA), ("–", CAM_LO), ("–", HAI_LANG)]  # fmt: skip


def test_ties_share_a_rank():
    def office(code, mean):
        q = {"overall": {"n": 9, "mean": mean, "dont_know": 0}}
        return {"office_code": code, "office_name": code, "counts": {"complete": 9},
                "questions": q}  # fmt: skip

    report = {"offices": [office("A", 7.0), office("B", 8.0), office("C", 7.0)]}
    questions = [model.Question("overall", "Overall", "scale", {})]
    ranks = [(r["rank"], r["code"]) for r in model.ranked_offices(report, questions,
                                                                   model.Options())]  # fmt: skip
    assert ranks == [("1", "B"), ("2", "A"), ("2", "C")]


def test_without_an_overall_question_offices_rank_on_the_average_of_the_scales():
    def office(code, a, b):
        q = {"a": {"n": 5, "mean": a}, "b": {"n": 5, "mean": b}}
        return {"office_code": code, "office_name": code, "counts": {"complete": 5},
                "questions": q}  # fmt: skip

    report = {"offices": [office("X", 9.0, 5.0), office("Y", 8.0, 7.0)]}
    questions = [model.Question("a", "A", "scale", {}), model.Question("b", "B", "scale", {})]
    rows = model.ranked_offices(report, questions, model.Options())
    assert [(r["code"], r["value"]) for r in rows] == [("Y", 7.5), ("X", 7.0)]


def test_follow_ups_are_given_in_all_and_per_office_with_indicators_5_2_and_5_3():
    office = {"raised": 2, "open": 1, "overdue": 1, "closed": 1, "on_time_share": 1.0,
              "satisfied_share": None, "median_days_to_close": 2.0}  # fmt: skip
    report = {"follow_ups": {**office, "offices": [
        {"office_code": "DH", "office_name": "UBND thành phố Đông Hà", **office},
        {"office_code": "GL", "office_name": "UBND huyện Gio Linh", **office, "raised": 0},
    ]}}  # fmt: skip
    figures = model.follow_ups(report, model.Options())
    assert [(i["label"], i["value"]) for i in figures["totals"]][:5] == [
        ("Phản ánh phát sinh", "2"), ("Đang xử lý", "1"), ("Quá hạn", "1"), ("Đã đóng", "1"),
        ("Tỷ lệ xử lý đúng hạn", "100,0\u00a0%"),
    ]  # fmt: skip
    # Offices that raised none are left out; a share without a denominator is a dash.
    assert figures["offices"] == [
        {"name": "UBND thành phố Đông Hà", "values": ["2", "1", "1", "100,0\u00a0%", "–"],
         "overdue": True},
    ]  # fmt: skip
    assert model.follow_ups({"follow_ups": {**office, "raised": 0}}, model.Options()) is None


def test_the_text_summary_lists_the_follow_ups_per_office(doc):
    from cati.documents.text import render

    assert "Xử lý phản ánh" not in render(doc)  # none raised
    office = {"raised": 3, "open": 0, "overdue": 0, "closed": 3, "on_time_share": 2 / 3,
              "satisfied_share": 0.5, "median_days_to_close": 4.0}  # fmt: skip
    report = {"follow_ups": {**office, "offices": [{"office_name": DONG_HA, **office}]}}
    text = render({**doc, "follow_ups": model.follow_ups(report, model.Options())})
    section = text.split("== Xử lý phản ánh")[1]
    assert "Phản ánh phát sinh 3" in section and "Tỷ lệ xử lý đúng hạn 66,7 %" in section
    row = next(line for line in section.splitlines() if DONG_HA in line)
    assert row.split()[-7:] == ["3", "0", "0", "66,7", "%", "50,0", "%"]
    assert "5.2 và 5.3" in section


def test_modes_are_shown_side_by_side_and_the_pooling_is_said(session, settings, survey_round):
    """Đông Hà answered on the web (overall 9 9 8 7 6 3 → 7,00), the others by IVR (8 8 8 8 8
    9 9 → 58 / 7 = 8,29): each mode has its own column, and a line says the overall pools them."""
    from cati.documents.text import render
    from cati.models import Member, Office

    flows = load_flows(settings.flows_dir)
    single = model.round_document(round_report(session, survey_round.id, flows, TZ),
                                  flows["mscore"], model.Options())  # fmt: skip
    assert single["modes"] == {
        "line": "Mọi phiếu hoàn thành của đợt đều qua một hình thức: tổng đài tự động.",
        "columns": [],
        "rows": [],
    }
    dong_ha = session.query(Office).filter_by(code="DH").one()
    for member in session.query(Member).filter_by(office_id=dong_ha.id):
        member.mode = "web"
    session.flush()
    doc = model.round_document(round_report(session, survey_round.id, flows, TZ),
                               flows["mscore"], model.Options())  # fmt: skip
    modes = doc["modes"]
    assert modes["columns"] == ["tổng đài tự động", "web"]
    assert modes["completes"] == ["7", "6"]
    assert "Dillman" in modes["line"] and "gộp" in modes["line"]
    overall = next(row for row in modes["rows"] if row["label"] == "Hài lòng chung")
    assert [(c["text"], c["n"]) for c in overall["cells"]] == [("8,29", "7"), ("7,00", "6")]
    paid = next(row for row in modes["rows"] if row["kind"] == "yes_no" and "biên lai" in
                row["label"])  # fmt: skip
    assert [c["text"] for c in paid["cells"]] == ["14,3\u00a0%", "16,7\u00a0%"]
    # The round's own figures still pool them: 13 completes, 7,69.
    assert doc["headline"][2]["value"] == "13"
    section = render(doc).split("== Kết quả theo hình thức khảo sát")[1].split("==")[0]
    assert "8,29 (n = 7)" in section and "7,00 (n = 6)" in section


def test_each_modes_response_is_in_the_text_and_the_pdf(session, settings, doc):
    """The web round followed by the IVR of tests/services/test_reports.py, the modes as
    columns as on the round page; a round with no attempts has no such section."""
    from cati.documents import pdf
    from cati.documents.text import render

    flows = load_flows(settings.flows_dir)
    report = round_report(session, web_round_then_ivr(session, "2026-W48").id, flows, TZ)
    web_doc = model.round_document(report, flows["mscore"], model.Options())
    section = web_doc["modes_response"]
    assert section["columns"] == ["tổng đài tự động", "web"]
    assert {row["label"]: row["values"] for row in section["rows"]} == {
        "Được mời hoặc gọi": ["4", "8"],
        "Số lượt": ["5", "5"],
        "Hoàn thành": ["1", "1"],
        "Trả lời một phần": ["0", "1"],
        "Từ chối, bỏ dở": ["1", "1"],
        "Tỷ lệ trả lời (RR1)": ["25,0\u00a0%", "14,3\u00a0%"],
    }
    text = render(web_doc)
    part = text.split("== Tỷ lệ trả lời theo hình thức")[1].split("==")[0]
    assert re.search(r"\n  Tỷ lệ trả lời \(RR1\) +25,0 % +14,3 %\n", part)
    assert re.search(r"\n +tổng đài tự động +web\n", part)
    assert "AAPOR RR1" in part and "chỉ tính các cuộc gọi điện thoại" in part
    assert text.index("== Tỷ lệ trả lời theo hình thức") < text.index("== Kết quả từng câu hỏi")
    page = pdf.html(web_doc)
    assert "Tỷ lệ trả lời theo hình thức" in page and "14,3\u00a0%" in page
    assert pdf.render(web_doc).startswith(b"%PDF")
    # The method says how the citizens were reached: a link first, then the phone.
    assert "qua đường dẫn riêng" in web_doc["method"][0] and "gọi điện" in web_doc["method"][0]
    assert "đường dẫn" not in doc["method"][0]  # a telephone round
    english = model.round_document(report, flows["mscore"], model.Options(language="en"))
    assert "personal link" in english["method"][0]
    assert english["modes_response"]["columns"] == ["IVR", "web"]
    assert english["modes_response"]["rows"][0]["label"] == "Invited or dialled"
    assert doc["modes_response"] is None
    assert "Tỷ lệ trả lời theo hình thức" not in render(doc)


def test_counter_ratings_have_their_own_section_greyed_under_the_minimum(settings, doc):
    from cati.documents.text import render

    flows = load_flows(settings.flows_dir)
    ratings = [
        {"office_code": "DH", "office_name": DONG_HA, "mode": "qr", "n": 3, "flagged": 2,
         "questions": {"overall": {"n": 3, "mean": 8.0, "dont_know": 0}}},
        {"office_code": "DH", "office_name": DONG_HA, "mode": "kiosk", "n": 12, "flagged": 0,
         "questions": {"overall": {"n": 12, "mean": 7.5, "dont_know": 0}}},
    ]  # fmt: skip
    section = model.counter(ratings, flows["mscore"], model.Options())
    assert section["title"] == (
        "Đánh giá tại quầy và qua mã QR (tự nguyện, không phải mẫu ngẫu nhiên)"
    )
    assert [(r["mode"], r["n"], r["flagged"]) for r in section["rows"]] == [
        ("máy tại quầy", "12", "0"), ("mã QR", "3", "2"),
    ]  # fmt: skip
    kiosk, qr = (row["cells"][0] for row in section["rows"])
    assert (kiosk.text, kiosk.grey) == ("7,50", False) and (qr.text, qr.grey) == ("8,00", True)
    assert model.counter(None, flows["mscore"], model.Options()) is None
    text = render({**doc, "counter": section})
    assert "== Đánh giá tại quầy và qua mã QR" in text
    assert text.index("== Đánh giá tại quầy") > text.index("== Cảnh báo")
    empty = model.counter([], flows["mscore"], model.Options())
    assert "Không có đánh giá tại quầy" in render({**doc, "counter": empty})


def test_the_pdf_lays_out_the_modes_and_the_counter_ratings(settings, doc):
    from cati.documents import pdf

    flows = load_flows(settings.flows_dir)
    overall = {"overall": {"n": 6, "mean": 7.5, "dont_know": 0}}
    ratings = [{"office_code": "DH", "office_name": DONG_HA, "mode": "kiosk", "n": 6,
                "flagged": 1, "questions": overall}]  # fmt: skip
    modes = {"line": "x", "columns": ["IVR", "web"], "completes": ["7", "6"],
             "rows": [{"label": "Hài lòng chung", "kind": "scale",
                       "cells": [{"text": "8,29", "n": "7", "grey": False}] * 2}]}  # fmt: skip
    counter = model.counter(ratings, flows["mscore"], model.Options())
    assert pdf.render({**doc, "modes": modes, "counter": counter}).startswith(b"%PDF")


def test_the_weeks_documents_have_the_follow_ups_of_their_period():
    from cati.documents.text import render

    office = {"raised": 1, "open": 1, "overdue": 0, "closed": 0, "on_time_share": None,
              "satisfied_share": None, "median_days_to_close": None}  # fmt: skip
    trend = {"weeks": "2026-W47..2026-W48", "rounds": [],
             "follow_ups": {**office, "offices": [{"office_name": DONG_HA, **office}]}}  # fmt: skip
    doc = model.trend_document(trend, {}, model.Options())
    assert doc["follow_ups"]["offices"][0]["name"] == DONG_HA
    assert "== Xử lý phản ánh" in render(doc) and DONG_HA in render(doc)
