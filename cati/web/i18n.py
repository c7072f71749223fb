"""The words of the web interface: Vietnamese by default, English on request.

`MESSAGES` is a plain catalog, one dict per language, each alphabetised by key and holding
exactly the same keys (a test checks both); keys are dotted by area (`auth.…`, `console.…`).
Templates call `t("key", name=value)`; the language is kept in the Flask session and changed
with `POST /language`.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, Flask, abort, has_request_context, redirect, request, session, url_for

from cati.web.auth.roles import local_path

LANGUAGES = ("vi", "en")
DEFAULT_LANGUAGE = "vi"
SESSION_KEY = "language"

MESSAGES: dict[str, dict[str, str]] = {
    "vi": {
        "app.name": "Dân chấm điểm",
        "auth.error.csrf": "Biểu mẫu đã hết hạn hoặc không hợp lệ. Vui lòng tải lại trang và thử lại.",
        "auth.error.csrf_title": "Yêu cầu không hợp lệ",
        "auth.error.forbidden": "Tài khoản của bạn không có quyền mở trang này.",
        "auth.error.forbidden_title": "Không có quyền truy cập",
        "auth.login.failed": "Tên đăng nhập hoặc mật khẩu không đúng, hoặc tài khoản đang tạm khoá. Sau {attempts} lần nhập sai liên tiếp, tài khoản bị khoá {minutes} phút.",
        "auth.login.heading": "Đăng nhập",
        "auth.login.missing": "Vui lòng nhập tên đăng nhập và mật khẩu.",
        "auth.login.password": "Mật khẩu",
        "auth.login.required": "Vui lòng đăng nhập để tiếp tục.",
        "auth.login.submit": "Đăng nhập",
        "auth.login.title": "Đăng nhập",
        "auth.login.username": "Tên đăng nhập",
        "auth.logout.done": "Bạn đã đăng xuất.",
        "auth.logout.submit": "Đăng xuất",
        "auth.signed_in_as": "Đang đăng nhập: {username} ({role})",
        "console.appointment": "Hẹn gọi lại lúc",
        "console.appointment_hint": "Dạng ngày/tháng/năm giờ:phút, ví dụ 24/11/2026 14:30. Giờ gọi: {hours}.",
        "console.attempt_of": "Lần gọi {n}/{max}",
        "console.autosave_failed": "Chưa lưu được",
        "console.autosaved": "Đã lưu",
        "console.back_to_queue": "Về danh sách cần gọi",
        "console.bad_appointment": "Thời gian hẹn không đọc được: “{value}”. Hãy nhập dạng 24/11/2026 14:30.",
        "console.by": "Người gọi",
        "console.closing": "Lời kết",
        "console.comment_hint": "Ghi lại ý kiến của người dân; để trống nếu không có góp ý.",
        "console.count_appointments": "Lịch hẹn hôm nay",
        "console.count_due": "Cần gọi ngay",
        "console.count_in_progress": "Đang làm",
        "console.day_names": "CN,T2,T3,T4,T5,T6,T7",
        "console.dont_know": "Không rõ",
        "console.dossier": "Mã hồ sơ",
        "console.due": "Ngày hẹn trả",
        "console.earlier_attempts": "Các lần gọi trước",
        "console.error.answer_first": "{label}: cần có câu trả lời trước khi sang câu sau.",
        "console.error.appointment_hours": "Giờ hẹn nằm ngoài giờ gọi. Giờ gọi: {hours}.",
        "console.error.appointment_missing": "Hẹn gọi lại cần có ngày và giờ.",
        "console.error.appointment_range": "Giờ hẹn phải sau thời điểm hiện tại và trước khi đợt khảo sát kết thúc ({ends}).",
        "console.error.bad_answer": "{label}: “{value}” không phải là câu trả lời hợp lệ.",
        "console.error.bad_outcome": "Vui lòng chọn kết quả cuộc gọi trong danh sách.",
        "console.error.gone": "Hồ sơ này không còn do bạn xử lý: đã được lưu, đã hết thời gian giữ hoặc đã trả lại hàng đợi.",
        "console.error.gone_title": "Hồ sơ không còn",
        "console.error.no_question": "Bộ câu hỏi không có câu “{question}”.",
        "console.error.not_asked": "{label}: câu này không được hỏi trong cuộc phỏng vấn này (đã kết thúc trước đó hoặc được chuyển qua).",
        "console.error.not_finished": "Chưa hỏi xong: {label} chưa có câu trả lời. Nếu cuộc gọi bị ngắt, hãy chọn “Bị ngắt giữa chừng”.",
        "console.error.refused": "Chưa lưu được: {message}",
        "console.error.summary": "Chưa lưu được. Mọi thông tin đã nhập vẫn còn nguyên; vui lòng xem thông báo bên cạnh ô liên quan.",
        "console.keys": "Phím",
        "console.my_appointments": "Lịch hẹn của bạn",
        "console.next_case": "Nhận hồ sơ tiếp theo",
        "console.no": "Không",
        "console.no_appointments": "Bạn chưa có lịch hẹn nào sắp tới.",
        "console.no_name": "(không có tên)",
        "console.not_asked": "Không hỏi",
        "console.notes": "Ghi chú",
        "console.nothing_due": "Hiện chưa có hồ sơ nào cần gọi.",
        "console.office": "Bộ phận một cửa",
        "console.officer": "Cán bộ tiếp nhận",
        "console.opening": "Lời chào",
        "console.outcome": "Kết quả cuộc gọi",
        "console.outcome_none": "(chỉ lưu câu trả lời)",
        "console.phone": "Số điện thoại",
        "console.procedure": "Thủ tục",
        "console.queue_title": "Danh sách cần gọi",
        "console.received": "Ngày tiếp nhận",
        "console.release": "Trả lại hàng đợi",
        "console.released": "Đã trả hồ sơ về hàng đợi.",
        "console.returned": "Ngày trả kết quả",
        "console.save": "Lưu",
        "console.saved_outcome": "Đã lưu: {outcome}.",
        "console.show_number": "Hiện số",
        "console.skipped": "Đã bỏ qua",
        "console.stats_title": "Thống kê cuộc gọi",
        "console.today": "Kết quả của bạn hôm nay",
        "console.today_calls": "Cuộc gọi",
        "console.today_completes": "Hoàn thành",
        "console.today_per_hour": "Hoàn thành mỗi giờ",
        "console.today_reached": "Gặp được",
        "console.today_signed_in": "Đã đăng nhập {hours} giờ {minutes} phút hôm nay.",
        "console.why_empty": "Hiện không còn hồ sơ nào cần gọi.",
        "console.why_later": "Chưa có hồ sơ nào đến giờ gọi. Hồ sơ tiếp theo đến hạn lúc {at}.",
        "console.why_outside_hours": "Đang ngoài giờ gọi. Giờ gọi tiếp theo bắt đầu lúc {at}.",
        "console.yes": "Có",
        "dashboard.asked_to_return": "Bị hẹn lại",
        "dashboard.attempted": "Đã gọi",
        "dashboard.complete": "Hoàn thành",
        "dashboard.contacted": "Gặp được",
        "dashboard.distribution": "Phân bố điểm chung",
        "dashboard.flow": "Bộ câu hỏi",
        "dashboard.job": "Công việc",
        "dashboard.last_result": "Kết quả lần trước",
        "dashboard.last_run": "Lần chạy trước",
        "dashboard.next_run": "Lần chạy tới",
        "dashboard.no_rounds": "Chưa có đợt khảo sát nào.",
        "dashboard.offices": "Các bộ phận một cửa",
        "dashboard.on_time": "Đúng hẹn",
        "dashboard.overall": "Điểm chung",
        "dashboard.paid_without_receipt": "Nộp tiền không phiếu thu",
        "dashboard.progress": "Tiến độ",
        "dashboard.rates": "Tỷ lệ",
        "dashboard.round": "Đợt",
        "dashboard.scheduler": "Bộ lập lịch",
        "dashboard.scheduler_down": "Không có bộ lập lịch nào đang chạy: không lấy mẫu, không gọi điện, không xóa dữ liệu hết hạn.",
        "dashboard.scheduler_leader": "Đang chạy trên máy {host} (pid {pid}) từ {since}.",
        "dashboard.title": "Các đợt khảo sát",
        "dashboard.trend": "Diễn biến qua các tuần",
        "dashboard.week": "Tuần",
        "job.closing": "Đóng đợt hết hạn",
        "job.dialing": "Gọi điện",
        "job.heartbeat": "Nhịp hoạt động",
        "job.reaping": "Dọn cuộc gọi treo",
        "job.retention": "Xóa dữ liệu cá nhân hết hạn",
        "job.sampling": "Lấy mẫu hằng tuần",
        "language.en": "English",
        "language.label": "Ngôn ngữ",
        "language.vi": "Tiếng Việt",
        "mode.interviewer": "Điều tra viên",
        "mode.ivr": "Tổng đài tự động",
        "nav.home": "Về trang chính",
        "nav.skip": "Chuyển đến nội dung chính",
        "outcome.None": "–",
        "outcome.appointment": "Hẹn gọi lại",
        "outcome.break_off": "Bỏ dở",
        "outcome.busy": "Máy bận",
        "outcome.complete": "Hoàn thành",
        "outcome.failed": "Lỗi cuộc gọi",
        "outcome.fax": "Máy fax",
        "outcome.interrupted": "Bị ngắt giữa chừng",
        "outcome.invalid_number": "Số không tồn tại",
        "outcome.machine": "Hộp thư thoại",
        "outcome.no_answer": "Không nghe máy",
        "outcome.not_eligible": "Không làm thủ tục này",
        "outcome.other": "Khác (ngôn ngữ, không thể trả lời)",
        "outcome.partial": "Trả lời một phần",
        "outcome.refused": "Từ chối",
        "outcome.unreachable": "Thuê bao không liên lạc được",
        "role.admin": "Quản trị viên",
        "role.interviewer": "Điều tra viên",
        "role.manager": "Quản lý",
        "stats.average_length": "Thời lượng TB",
        "stats.calls": "Cuộc gọi",
        "stats.completes": "Hoàn thành",
        "stats.completes_per_hour": "Hoàn thành mỗi giờ đăng nhập",
        "stats.contacts": "Gặp được",
        "stats.day": "Ngày",
        "stats.interviewer": "Điều tra viên",
        "stats.none": "Chưa có cuộc gọi nào.",
        "stats.refusals": "Từ chối",
        "stats.success_rate": "Tỷ lệ gặp được",
    },
    "en": {
        "app.name": "Dân chấm điểm",
        "auth.error.csrf": "The form has expired or is not valid. Please reload the page and try again.",
        "auth.error.csrf_title": "Invalid request",
        "auth.error.forbidden": "Your account is not allowed to open this page.",
        "auth.error.forbidden_title": "Access denied",
        "auth.login.failed": "Wrong username or password, or the account is temporarily locked. After {attempts} wrong passwords in a row an account is locked for {minutes} minutes.",
        "auth.login.heading": "Sign in",
        "auth.login.missing": "Please enter your username and password.",
        "auth.login.password": "Password",
        "auth.login.required": "Please sign in to continue.",
        "auth.login.submit": "Sign in",
        "auth.login.title": "Sign in",
        "auth.login.username": "Username",
        "auth.logout.done": "You have signed out.",
        "auth.logout.submit": "Sign out",
        "auth.signed_in_as": "Signed in as {username} ({role})",
        "console.appointment": "Call back at",
        "console.appointment_hint": "Day/month/year hour:minute, e.g. 24/11/2026 14:30. Calling hours: {hours}.",
        "console.attempt_of": "Call {n} of {max}",
        "console.autosave_failed": "Not saved",
        "console.autosaved": "Saved",
        "console.back_to_queue": "Back to the call queue",
        "console.bad_appointment": "Cannot read the appointment time: “{value}”. Write it as 24/11/2026 14:30.",
        "console.by": "Caller",
        "console.closing": "Closing",
        "console.comment_hint": "Write down the citizen's comment; leave it empty if there is none.",
        "console.count_appointments": "Appointments today",
        "console.count_due": "Due now",
        "console.count_in_progress": "In progress",
        "console.day_names": "Sun,Mon,Tue,Wed,Thu,Fri,Sat",
        "console.dont_know": "Don't know",
        "console.dossier": "Dossier",
        "console.due": "Due",
        "console.earlier_attempts": "Earlier calls",
        "console.error.answer_first": "{label}: this needs an answer before the next question.",
        "console.error.appointment_hours": "The appointment is outside calling hours. Calling hours: {hours}.",
        "console.error.appointment_missing": "An appointment needs a date and a time.",
        "console.error.appointment_range": "The appointment must be in the future and before the round ends ({ends}).",
        "console.error.bad_answer": "{label}: “{value}” is not a valid answer.",
        "console.error.bad_outcome": "Please choose a call outcome from the list.",
        "console.error.gone": "This case is no longer yours: it was saved, its time ran out, or it went back to the queue.",
        "console.error.gone_title": "Case no longer available",
        "console.error.no_question": "The questionnaire has no question “{question}”.",
        "console.error.not_asked": "{label}: this question is not asked in this interview (it ended earlier or went past it).",
        "console.error.not_finished": "Not finished: {label} has no answer. If the call was cut off, choose “Interrupted”.",
        "console.error.refused": "Not saved: {message}",
        "console.error.summary": "Not saved. Everything you entered is still here; see the message next to the field concerned.",
        "console.keys": "Keys",
        "console.my_appointments": "Your appointments",
        "console.next_case": "Next case",
        "console.no": "No",
        "console.no_appointments": "You have no upcoming appointments.",
        "console.no_name": "(no name)",
        "console.not_asked": "Not asked",
        "console.notes": "Notes",
        "console.nothing_due": "Nothing is due right now.",
        "console.office": "Office",
        "console.officer": "Receiving officer",
        "console.opening": "Opening",
        "console.outcome": "Call outcome",
        "console.outcome_none": "(save the answers only)",
        "console.phone": "Phone",
        "console.procedure": "Procedure",
        "console.queue_title": "Call queue",
        "console.received": "Received",
        "console.release": "Return to the queue",
        "console.released": "The case is back in the queue.",
        "console.returned": "Returned",
        "console.save": "Save",
        "console.saved_outcome": "Saved: {outcome}.",
        "console.show_number": "Show number",
        "console.skipped": "Skipped",
        "console.stats_title": "Call statistics",
        "console.today": "Your figures today",
        "console.today_calls": "Calls",
        "console.today_completes": "Completes",
        "console.today_per_hour": "Completes per hour",
        "console.today_reached": "Reached",
        "console.today_signed_in": "Signed in for {hours} h {minutes} min today.",
        "console.why_empty": "There are no cases left to call.",
        "console.why_later": "No case is due yet. The next one is due at {at}.",
        "console.why_outside_hours": "Outside calling hours. The next calling window opens at {at}.",
        "console.yes": "Yes",
        "dashboard.asked_to_return": "Asked to return",
        "dashboard.attempted": "Attempted",
        "dashboard.complete": "Complete",
        "dashboard.contacted": "Contacted",
        "dashboard.distribution": "Overall score distribution",
        "dashboard.flow": "Questionnaire",
        "dashboard.job": "Job",
        "dashboard.last_result": "Last result",
        "dashboard.last_run": "Last run",
        "dashboard.next_run": "Next run",
        "dashboard.no_rounds": "No rounds yet.",
        "dashboard.offices": "Offices",
        "dashboard.on_time": "On time",
        "dashboard.overall": "Overall score",
        "dashboard.paid_without_receipt": "Paid without receipt",
        "dashboard.progress": "Progress",
        "dashboard.rates": "Rates",
        "dashboard.round": "Round",
        "dashboard.scheduler": "Scheduler",
        "dashboard.scheduler_down": "No scheduler is running: no sampling, no calls, no erasure of expired data.",
        "dashboard.scheduler_leader": "Running on {host} (pid {pid}) since {since}.",
        "dashboard.title": "Survey rounds",
        "dashboard.trend": "Trend across weeks",
        "dashboard.week": "Week",
        "job.closing": "Closing ended rounds",
        "job.dialing": "Dialing",
        "job.heartbeat": "Heartbeat",
        "job.reaping": "Reaping stuck calls",
        "job.retention": "Erasing expired personal data",
        "job.sampling": "Weekly sampling",
        "language.en": "English",
        "language.label": "Language",
        "language.vi": "Tiếng Việt",
        "mode.interviewer": "Interviewer",
        "mode.ivr": "IVR",
        "nav.home": "Back to the start page",
        "nav.skip": "Skip to main content",
        "outcome.None": "–",
        "outcome.appointment": "Appointment",
        "outcome.break_off": "Break-off",
        "outcome.busy": "Busy",
        "outcome.complete": "Complete",
        "outcome.failed": "Call failed",
        "outcome.fax": "Fax",
        "outcome.interrupted": "Interrupted",
        "outcome.invalid_number": "Invalid number",
        "outcome.machine": "Answering machine",
        "outcome.no_answer": "No answer",
        "outcome.not_eligible": "Not eligible",
        "outcome.other": "Other (language, unable)",
        "outcome.partial": "Partial",
        "outcome.refused": "Refused",
        "outcome.unreachable": "Unreachable",
        "role.admin": "Administrator",
        "role.interviewer": "Interviewer",
        "role.manager": "Manager",
        "stats.average_length": "Average length",
        "stats.calls": "Calls",
        "stats.completes": "Completes",
        "stats.completes_per_hour": "Completes per hour signed in",
        "stats.contacts": "Contacts",
        "stats.day": "Day",
        "stats.interviewer": "Interviewer",
        "stats.none": "No calls yet.",
        "stats.refusals": "Refusals",
        "stats.success_rate": "Reached per call",
    },
}

bp = Blueprint("i18n", __name__)


def current_language() -> str:
    """The language of this request's session (Vietnamese outside a request or when unset)."""
    if has_request_context():
        language = session.get(SESSION_KEY)
        if language in LANGUAGES:
            return language
    return DEFAULT_LANGUAGE


def t(key: str, **params: object) -> str:
    """The text of `key` in the current language, with `{name}` placeholders filled in.

    A key missing from the language falls back to Vietnamese, then to the key itself, so a
    forgotten entry shows up on the page instead of breaking it.
    """
    language = current_language()
    text = MESSAGES[language].get(key)
    if text is None:
        text = MESSAGES[DEFAULT_LANGUAGE].get(key, key)
    return text.format(**params) if params else text


@bp.post("/language")
def set_language():
    """Switch the interface language, then go back where the form was (local pages only)."""
    language = request.form.get("language", "")
    if language not in LANGUAGES:
        abort(400)
    session[SESSION_KEY] = language
    return redirect(
        local_path(request.form.get("next")) or _local_referrer() or url_for("auth.login")
    )


def _local_referrer() -> str | None:
    referrer = request.referrer
    if not referrer:
        return None
    parts = urlsplit(referrer)
    if parts.scheme not in ("http", "https") or parts.netloc != request.host:
        return None
    return local_path(parts.path + (f"?{parts.query}" if parts.query else ""))


def number(value: float | None, digits: int = 1) -> str:
    """A number the reader's way: 94,3 in Vietnamese, 94.3 in English; '–' for none."""
    if value is None:
        return "–"
    text = f"{value:.{digits}f}"
    return text.replace(".", ",") if current_language() == "vi" else text


def init_app(app: Flask) -> None:
    app.jinja_env.globals["t"] = t
    app.jinja_env.globals["current_language"] = current_language
    app.jinja_env.globals["number"] = number
    app.register_blueprint(bp)
