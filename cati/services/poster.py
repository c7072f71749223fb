"""The A4 poster for an office's desk: the QR code of its public rating page `/q/<token>`,
the office's name, and that rating is voluntary and anonymous (no officer may press anyone).
"""

from __future__ import annotations

import base64

from jinja2 import Environment

from cati.services.slips import qr_svg

POSTER = """<!doctype html>
<html lang="vi"><head><meta charset="utf-8"><style>
@page { size: A4; margin: 18mm; }
body { font-family: "DejaVu Sans", "Noto Sans", sans-serif; color: #111; text-align: center;
       margin: 0; }
.org { font-size: 15pt; margin: 0 0 6mm; }
h1 { font-size: 30pt; line-height: 1.2; margin: 0 0 4mm; }
.office { font-size: 19pt; font-weight: bold; margin: 0 0 10mm; }
.qr img { width: 110mm; height: 110mm; }
.how { font-size: 15pt; margin: 8mm 0 4mm; }
.url { font-family: "DejaVu Sans Mono", monospace; font-size: 10pt; word-break: break-all; }
.note { font-size: 13pt; line-height: 1.4; margin: 10mm 8mm 0; border-top: 1px solid #888;
        padding-top: 5mm; }
</style></head><body>
<p class="org">{{ organisation }}</p>
<h1>Mời Ông/Bà đánh giá việc phục vụ</h1>
<p class="office">{{ office_name }}</p>
<div class="qr"><img src="data:image/svg+xml;base64,{{ qr }}" alt="Mã QR của trang đánh giá"></div>
<p class="how">Quét mã QR bằng điện thoại để đánh giá, khoảng 1 phút.</p>
<p class="url">{{ url }}</p>
<p class="note">Việc đánh giá là tự nguyện và ẩn danh; không cán bộ nào được yêu cầu hay
   thúc ép Ông/Bà đánh giá.</p>
</body></html>
"""


def poster_html(office_name: str, url: str, organisation: str) -> str:
    qr = base64.b64encode(qr_svg(url).encode()).decode("ascii")
    return (
        Environment(autoescape=True)
        .from_string(POSTER)
        .render(office_name=office_name, url=url, organisation=organisation, qr=qr)
    )


def poster_pdf(office_name: str, url: str, organisation: str) -> bytes:
    from weasyprint import HTML

    return HTML(string=poster_html(office_name, url, organisation)).write_pdf()
