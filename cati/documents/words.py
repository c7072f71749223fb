"""The documents' words, in Vietnamese and English (the report's figures are named here)."""

from __future__ import annotations

WORDS: dict[str, dict[str, str]] = {
    "title": {"vi": "Báo cáo kết quả khảo sát sự hài lòng của người dân",
              "en": "Citizen satisfaction survey report"},
    "trend_title": {"vi": "Báo cáo kết quả khảo sát sự hài lòng qua các tuần",
                    "en": "Citizen satisfaction survey across weeks"},
    "round_line": {"vi": "Đợt khảo sát số {id}, tuần {week}",
                   "en": "Survey round {id}, week {week}"},
    "weeks_line": {"vi": "Các tuần {first} đến {last}", "en": "Weeks {first} to {last}"},
    "period": {"vi": "Kỳ khảo sát", "en": "Period"},
    "period_value": {"vi": "hồ sơ trả kết quả từ {start} đến {end}",
                     "en": "dossiers returned from {start} to {end}"},
    "made_on": {"vi": "Ngày lập báo cáo", "en": "Report date"},
    "open_round": {"vi": "Đợt khảo sát đang gọi (đến hết ngày {date}): số liệu chưa cuối cùng.",
                   "en": "This round is still calling (until {date}): figures are not final."},
    "open_round_short": {"vi": "đang gọi", "en": "still calling"},
    "method": {"vi": "Phương pháp", "en": "Method"},
    "method_1": {
        "vi": "Người dân vừa nhận kết quả thủ tục hành chính tại bộ phận một cửa được chọn ngẫu "
              "nhiên theo từng cơ quan ({sampled} người từ {eligible} hồ sơ đủ điều kiện) và "
              "được gọi điện thoại (tổng đài tự động và điều tra viên) để chấm điểm bằng phím "
              "bấm.",
        "en": "Citizens who had just received the result of an administrative procedure at a "
              "one-stop office were drawn at random within each office ({sampled} of "
              "{eligible} eligible dossiers) and phoned (by the automated line and by "
              "interviewers) to score the service on their keypad.",
    },
    "method_1_web": {
        "vi": "Người dân vừa nhận kết quả thủ tục hành chính tại bộ phận một cửa được chọn ngẫu "
              "nhiên theo từng cơ quan ({sampled} người từ {eligible} hồ sơ đủ điều kiện) và "
              "được mời chấm điểm trên điện thoại của mình qua đường dẫn riêng (gửi bằng tin "
              "nhắn hoặc phiếu in); người chưa trả lời sau vài ngày được gọi điện thoại.",
        "en": "Citizens who had just received the result of an administrative procedure at a "
              "one-stop office were drawn at random within each office ({sampled} of "
              "{eligible} eligible dossiers) and invited to score the service on their own "
              "phone through a personal link (by text message or on a printed slip); those who "
              "had not answered after a few days were phoned.",
    },
    "method_1_weeks": {
        "vi": "Mỗi tuần, người dân vừa nhận kết quả thủ tục hành chính tại bộ phận một cửa được "
              "chọn ngẫu nhiên theo từng cơ quan và được gọi điện thoại (tổng đài tự động và "
              "điều tra viên) để chấm điểm bằng phím bấm.",
        "en": "Each week, citizens who had just received the result of an administrative "
              "procedure at a one-stop office were drawn at random within each office and "
              "phoned (by the automated line and by interviewers) to score the service on "
              "their keypad.",
    },
    "method_2": {
        "vi": "Điểm là trung bình trên thang 1–9 kèm khoảng tin cậy 95 %; tỷ lệ hài lòng là tỷ lệ "
              "người chấm từ {satisfied} điểm trở lên; câu trả lời “không rõ” không được tính; "
              "số liệu từ dưới {min_n} câu trả lời được in màu xám và không xếp hạng.",
        "en": "Scores are means on the 1–9 scale with their 95 % interval; the satisfied share "
              "is the share of scores of {satisfied} or more; \"don't know\" is left out; "
              "figures from fewer than {min_n} answers are printed grey and not ranked.",
    },
    "headline": {"vi": "Số liệu chính", "en": "Headline figures"},
    "sampled": {"vi": "Số người trong mẫu", "en": "Sampled"},
    "reached": {"vi": "Đã liên lạc được", "en": "Reached"},
    "complete": {"vi": "Hoàn thành khảo sát", "en": "Completed interviews"},
    "response_rate": {"vi": "Tỷ lệ trả lời", "en": "Response rate"},
    "call_success_rate": {"vi": "Tỷ lệ gọi thành công", "en": "Call success rate"},
    "call_success_def": {"vi": "người nghe máy ÷ người đã được gọi",
                         "en": "members reached ÷ members dialled"},
    "mean_of": {"vi": "{label}: điểm trung bình", "en": "{label}: mean score"},
    "satisfied_range": {"vi": "hài lòng ({low}–{high} điểm)", "en": "satisfied ({low}–{high})"},
    "yes_of": {"vi": "{label}: tỷ lệ trả lời “có”", "en": "{label}: share answering yes"},
    "questions": {"vi": "Kết quả từng câu hỏi", "en": "Each question"},
    "mean": {"vi": "Điểm trung bình", "en": "Mean"},
    "ci95": {"vi": "khoảng tin cậy 95 %", "en": "95 % interval"},
    "satisfied": {"vi": "Hài lòng", "en": "Satisfied"},
    "yes": {"vi": "Có", "en": "Yes"},
    "no": {"vi": "Không", "en": "No"},
    "answers": {"vi": "câu trả lời", "en": "answers"},
    "dont_know": {"vi": "không rõ", "en": "don't know"},
    "score": {"vi": "điểm", "en": "score"},
    "chart_caption": {
        "vi": "Phân bố điểm ({n} câu trả lời, {dont_know} không rõ); cột đậm: hài lòng.",
        "en": "Scores given ({n} answers, {dont_know} don't know); dark bars: satisfied.",
    },
    "offices": {"vi": "Xếp hạng các cơ quan", "en": "Offices ranked"},
    "rank": {"vi": "Hạng", "en": "Rank"},
    "office": {"vi": "Cơ quan", "en": "Office"},
    "n_complete": {"vi": "Số phiếu", "en": "n"},
    "ranked_by": {"vi": "Xếp hạng theo {what}.", "en": "Ranked by {what}."},
    "ranked_by_mean": {"vi": "điểm trung bình của {label}", "en": "the mean score of {label}"},
    "ranked_by_average": {"vi": "trung bình điểm các câu hỏi thang điểm",
                          "en": "the average of the scale questions' means"},
    "table_note": {
        "vi": "Cột câu hỏi thang điểm: điểm trung bình (1–9); cột câu hỏi có/không: tỷ lệ trả lời "
              "“có”. In màu xám, nghiêng: dưới {min_n} câu trả lời, không xếp hạng, không cảnh "
              "báo. ▲: cảnh báo (xem chú giải).",
        "en": "Scale questions: mean score (1–9); yes/no questions: share answering yes. Grey "
              "italics: fewer than {min_n} answers, not ranked, never flagged. ▲: warning (see "
              "the legend).",
    },
    "text_note": {
        "vi": "Câu hỏi thang điểm: điểm trung bình (1–9); câu hỏi có/không: tỷ lệ trả lời “có”. "
              "*: dưới {min_n} câu trả lời, không xếp hạng, không cảnh báo. ▲: cảnh báo.",
        "en": "Scale questions: mean score (1–9); yes/no questions: share answering yes. "
              "*: fewer than {min_n} answers, not ranked, never flagged. ▲: warning.",
    },
    "officers": {"vi": "Cán bộ tiếp nhận hồ sơ", "en": "Receiving officers"},
    "officer": {"vi": "Cán bộ", "en": "Officer"},
    "warnings": {"vi": "Cảnh báo", "en": "Warnings"},
    "legend": {"vi": "Chú giải", "en": "Legend"},
    "warn_above": {"vi": "{label}: cảnh báo khi tỷ lệ “có” trên {value} ({setting})",
                   "en": "{label}: flagged when the share answering yes is above {value} "
                         "({setting})"},
    "warn_below": {"vi": "{label}: cảnh báo khi tỷ lệ “có” dưới {value} ({setting})",
                   "en": "{label}: flagged when the share answering yes is below {value} "
                         "({setting})"},
    "warn_min_n": {"vi": "Chỉ xét cơ quan có ít nhất {min_n} câu trả lời ({setting}).",
                   "en": "Only offices with at least {min_n} answers are flagged ({setting})."},
    "warn_item": {"vi": "{label} {value} ({n} câu trả lời)",
                  "en": "{label} {value} ({n} answers)"},
    "e_note": {"vi": "e (tỷ lệ ước tính đủ điều kiện trong các trường hợp chưa rõ) = {e}",
               "en": "e (estimated eligible share of the unknown cases) = {e}"},
    "no_warnings": {"vi": "Không có cơ quan nào vượt ngưỡng cảnh báo.",
                    "en": "No office is past a warning threshold."},
    "response": {"vi": "Tỷ lệ trả lời theo chuẩn AAPOR", "en": "AAPOR response figures"},
    "dispositions": {"vi": "Kết quả liên lạc", "en": "Dispositions"},
    "rate": {"vi": "Tỷ lệ", "en": "Rate"},
    "value": {"vi": "Giá trị", "en": "Value"},
    "definition": {"vi": "Cách tính", "en": "Definition"},
    "modes": {"vi": "Kết quả theo hình thức khảo sát", "en": "Figures by survey mode"},
    "modes_note": {
        "vi": "Người dân trả lời khác nhau tùy hình thức: qua điện thoại và tổng đài tự động "
              "thường chấm điểm cao hơn qua web (Dillman). Số liệu chung của đợt gộp các hình "
              "thức này.",
        "en": "People answer differently by mode: by phone and IVR they rate more positively "
              "than on the web (Dillman). The round's overall figures pool these modes.",
    },
    "one_mode": {"vi": "Mọi phiếu hoàn thành của đợt đều qua một hình thức: {mode}.",
                 "en": "All of the round's completes came by one mode: {mode}."},
    "modes_response": {"vi": "Tỷ lệ trả lời theo hình thức", "en": "Response by mode"},
    "mr_members": {"vi": "Được mời hoặc gọi", "en": "Invited or dialled"},
    "mr_attempts": {"vi": "Số lượt", "en": "Attempts"},
    "mr_completes": {"vi": "Hoàn thành", "en": "Completes"},
    "mr_partials": {"vi": "Trả lời một phần", "en": "Partials"},
    "mr_refusals": {"vi": "Từ chối, bỏ dở", "en": "Refusals, break-offs"},
    "mr_rate": {"vi": "Tỷ lệ trả lời (RR1)", "en": "Response rate (RR1)"},
    "mr_note": {
        "vi": "Mỗi hình thức tính riêng những người được mời trả lời trên web, hoặc đã được gọi ít "
              "nhất một lần qua tổng đài tự động hay điều tra viên; một người có thể có mặt ở "
              "nhiều hình thức. Số lượt: lượt trả lời trên web, cuộc gọi đã kết thúc. Tỷ lệ trả "
              "lời (AAPOR RR1) = số hoàn thành qua hình thức đó ÷ số người được mời hoặc gọi qua "
              "hình thức đó, trừ người không thuộc đối tượng khảo sát. Tỷ lệ gọi thành công chỉ "
              "tính các cuộc gọi điện thoại.",
        "en": "Each mode counts the members invited to answer on the web, or dialled at least "
              "once by the IVR or an interviewer; one member may be in several modes. Attempts: "
              "web visits, calls that ended. Response rate (AAPOR RR1) = completes in that mode "
              "÷ members invited or dialled in it, less those found not eligible. The call "
              "success rate counts telephone calls only.",
    },
    "mode_interviewer": {"vi": "điều tra viên", "en": "interviewer"},
    "mode_ivr": {"vi": "tổng đài tự động", "en": "IVR"},
    "mode_web": {"vi": "web", "en": "web"},
    "mode_kiosk": {"vi": "máy tại quầy", "en": "kiosk"},
    "mode_qr": {"vi": "mã QR", "en": "QR code"},
    "question": {"vi": "Câu hỏi", "en": "Question"},
    "counter": {"vi": "Đánh giá tại quầy và qua mã QR (tự nguyện, không phải mẫu ngẫu nhiên)",
                "en": "Ratings at the counter and by QR code (volunteered, not a random sample)"},
    "counter_note": {
        "vi": "Người dân tự chọn đánh giá nên các số liệu này không tính vào kết quả khảo sát "
              "ngẫu nhiên và tỷ lệ AAPOR. Phiếu bị đánh dấu nghi vấn không được tính.",
        "en": "People chose to rate, so these figures are kept out of the sampled results and "
              "the AAPOR rates. Flagged ratings are not counted.",
    },
    "counter_none": {"vi": "Không có đánh giá tại quầy hay qua mã QR trong kỳ này.",
                     "en": "No counter or QR ratings in this period."},
    "counter_mode": {"vi": "Hình thức", "en": "Mode"},
    "counter_n": {"vi": "Số phiếu", "en": "Ratings"},
    "counter_flagged": {"vi": "Nghi vấn (không tính)", "en": "Flagged (not counted)"},
    "follow_ups": {"vi": "Xử lý phản ánh", "en": "Follow-ups"},
    "fu_raised": {"vi": "Phản ánh phát sinh", "en": "Raised"},
    "fu_open": {"vi": "Đang xử lý", "en": "Open"},
    "fu_overdue": {"vi": "Quá hạn", "en": "Overdue"},
    "fu_closed": {"vi": "Đã đóng", "en": "Closed"},
    "fu_on_time_share": {"vi": "Tỷ lệ xử lý đúng hạn", "en": "Closed on time"},
    "fu_satisfied_share": {"vi": "Tỷ lệ hài lòng khi gọi lại", "en": "Satisfied when called back"},
    "fu_median_days": {"vi": "Số ngày xử lý (trung vị)", "en": "Median days to close"},
    "fu_no_office": {"vi": "(chưa rõ cơ quan)", "en": "(office unknown)"},
    "fu_office": {"vi": "Cơ quan", "en": "Office"},
    "fu_note": {
        "vi": "Tỷ lệ xử lý đúng hạn và tỷ lệ hài lòng khi gọi lại là chỉ số 5.2 và 5.3 của "
        "Quyết định 766/QĐ-TTg; thời hạn tính theo ngày làm việc.",
        "en": "Closed on time and satisfied when called back are indicators 5.2 and 5.3 of "
        "Decision 766; deadlines count working days.",
    },
    "weeks": {"vi": "Tuần", "en": "Week"},
    "trend_table": {"vi": "Số liệu từng tuần", "en": "Week by week"},
    "trend_charts": {"vi": "Diễn biến qua các tuần", "en": "Across the weeks"},
    "trend_chart_caption": {
        "vi": "{label}: điểm trung bình từng tuần (chấm rỗng: dưới {min_n} câu trả lời).",
        "en": "{label}: mean score each week (hollow dot: fewer than {min_n} answers).",
    },
    "no_rounds": {"vi": "Không có đợt khảo sát nào trong các tuần này.",
                  "en": "No survey round in these weeks."},
    "page": {"vi": "Trang", "en": "Page"},
    "not_ranked": {"vi": "–", "en": "–"},
}  # fmt: skip

# AAPOR's names of the rates the report gives, and how each is computed (Standard
# Definitions: I complete, P partial, R refusal, NC non-contact, O other, UH/UO unknown,
# e the estimated eligible share of the unknown).
RATE_WORDS: dict[str, dict[str, str]] = {
    "rr1": {"vi": "Tỷ lệ trả lời 1 (Response Rate 1)", "en": "Response Rate 1",
            "def": "I ÷ (I+P+R+NC+O+UH+UO)"},
    "rr2": {"vi": "Tỷ lệ trả lời 2 (Response Rate 2)", "en": "Response Rate 2",
            "def": "(I+P) ÷ (I+P+R+NC+O+UH+UO)"},
    "rr3": {"vi": "Tỷ lệ trả lời 3 (Response Rate 3)", "en": "Response Rate 3",
            "def": "I ÷ (I+P+R+NC+O+e·(UH+UO))"},
    "rr4": {"vi": "Tỷ lệ trả lời 4 (Response Rate 4)", "en": "Response Rate 4",
            "def": "(I+P) ÷ (I+P+R+NC+O+e·(UH+UO))"},
    "rr5": {"vi": "Tỷ lệ trả lời 5 (Response Rate 5)", "en": "Response Rate 5",
            "def": "I ÷ (I+P+R+NC+O)"},
    "rr6": {"vi": "Tỷ lệ trả lời 6 (Response Rate 6)", "en": "Response Rate 6",
            "def": "(I+P) ÷ (I+P+R+NC+O)"},
    "coop1": {"vi": "Tỷ lệ hợp tác 1 (Cooperation Rate 1)", "en": "Cooperation Rate 1",
              "def": "I ÷ (I+P+R+O)"},
    "coop2": {"vi": "Tỷ lệ hợp tác 2 (Cooperation Rate 2)", "en": "Cooperation Rate 2",
              "def": "(I+P) ÷ (I+P+R+O)"},
    "coop3": {"vi": "Tỷ lệ hợp tác 3 (Cooperation Rate 3)", "en": "Cooperation Rate 3",
              "def": "I ÷ (I+P+R)"},
    "coop4": {"vi": "Tỷ lệ hợp tác 4 (Cooperation Rate 4)", "en": "Cooperation Rate 4",
              "def": "(I+P) ÷ (I+P+R)"},
    "ref1": {"vi": "Tỷ lệ từ chối 1 (Refusal Rate 1)", "en": "Refusal Rate 1",
             "def": "R ÷ (I+P+R+NC+O+UH+UO)"},
    "ref2": {"vi": "Tỷ lệ từ chối 2 (Refusal Rate 2)", "en": "Refusal Rate 2",
             "def": "R ÷ (I+P+R+NC+O+e·(UH+UO))"},
    "ref3": {"vi": "Tỷ lệ từ chối 3 (Refusal Rate 3)", "en": "Refusal Rate 3",
             "def": "R ÷ (I+P+R+NC+O)"},
    "con1": {"vi": "Tỷ lệ tiếp xúc 1 (Contact Rate 1)", "en": "Contact Rate 1",
             "def": "(I+P+R+O) ÷ (I+P+R+NC+O+UH+UO)"},
    "con2": {"vi": "Tỷ lệ tiếp xúc 2 (Contact Rate 2)", "en": "Contact Rate 2",
             "def": "(I+P+R+O) ÷ (I+P+R+NC+O+e·(UH+UO))"},
    "con3": {"vi": "Tỷ lệ tiếp xúc 3 (Contact Rate 3)", "en": "Contact Rate 3",
             "def": "(I+P+R+O) ÷ (I+P+R+NC+O)"},
}  # fmt: skip

COUNT_WORDS: dict[str, dict[str, str]] = {
    "complete": {"vi": "Hoàn thành (I)", "en": "Complete (I)"},
    "partial": {"vi": "Hoàn thành một phần (P)", "en": "Partial (P)"},
    "refusal": {"vi": "Từ chối (R)", "en": "Refusal (R)"},
    "non_contact": {"vi": "Không liên lạc được (NC)", "en": "Non-contact (NC)"},
    "other": {"vi": "Lý do khác (O)", "en": "Other (O)"},
    "unknown": {"vi": "Chưa rõ đủ điều kiện (UH, UO)", "en": "Unknown eligibility (UH, UO)"},
    "not_eligible": {"vi": "Không đủ điều kiện (NE)", "en": "Not eligible (NE)"},
    "pending": {"vi": "Chưa có kết quả cuối", "en": "No final disposition yet"},
}  # fmt: skip

LANGUAGES = ("vi", "en")


def word(key: str, language: str, **values: object) -> str:
    text = WORDS[key][language]
    return text.format(**values) if values else text
