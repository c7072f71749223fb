"""Paper slips of a web round's links, to hand out with the result: a PDF, three slips to an
A4 page, each with its cutting line.

Each slip names the office, says in two sentences what the survey is and that it is
voluntary, and carries the link as a QR code (segno, SVG) and in letters, and the hotline.
No phone number, and no name beyond the addressee line.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from datetime import datetime, timedelta

from jinja2 import Environment

SLIPS = """<!doctype html>
<html lang="vi"><head><meta charset="utf-8"><style>
@page { size: A4; margin: 10mm; }
body { font-family: "DejaVu Sans", "Noto Sans", sans-serif; font-size: 10.5pt; color: #111;
       margin: 0; }
.slip { height: 88mm; box-sizing: border-box; border: 1px dashed #888; padding: 5mm 6mm;
        margin-bottom: 4mm; break-inside: avoid; display: flex; gap: 6mm; }
.text { flex: 1; }
.qr { width: 44mm; text-align: center; font-size: 8.5pt; }
.qr img { width: 44mm; height: 44mm; }
h1 { font-size: 12.5pt; margin: 0 0 2mm; }
.to { font-weight: bold; margin: 0 0 1.5mm; }
p { margin: 0 0 2mm; line-height: 1.35; }
.url { font-family: "DejaVu Sans Mono", monospace; font-size: 9pt; word-break: break-all;
        overflow-wrap: anywhere; }
.small { font-size: 9pt; color: #333; }
</style></head><body>
{% for slip in slips %}
<section class="slip">
  <div class="text">
    <h1>{{ organisation }} – Khảo sát ý kiến người dân</h1>
    <p class="to">Kính gửi: Ông/Bà {{ slip.citizen_name or "" }}</p>
    <p>{{ organisation }} đang hỏi ý kiến người dân vừa nhận kết quả thủ tục hành chính
       tại <b>{{ slip.office_name }}</b> để phục vụ người dân tốt hơn.
       Việc tham gia là tự nguyện, chỉ mất khoảng 2 phút, và ý kiến của Ông/Bà được giữ kín.</p>
    <p>Quét mã QR bằng điện thoại, hoặc gõ đường dẫn:<br><span class="url">{{ slip.url }}</span></p>
    <p class="small">Trả lời đến hết ngày {{ until }}. Không muốn tham gia: bấm
       “Tôi không muốn tham gia” trên trang khảo sát{% if hotline %}, hoặc gọi đường dây nóng
       <b>{{ hotline }}</b>{% endif %}.</p>
  </div>
  <div class="qr">
    <img src="data:image/svg+xml;base64,{{ slip.qr }}" alt="Mã QR của đường dẫn khảo sát">
    <div>Mã hồ sơ {{ slip.dossier_code }}</div>
  </div>
</section>
{% endfor %}
</body></html>
"""


def qr_svg(url: str) -> str:
    """The QR code of a link as SVG text (error correction M: survives a crease or a smudge)."""
    import segno

    return segno.make(url, error="m", micro=False).svg_inline(scale=4, border=2)


def slips_html(links: Sequence, settings, *, valid_until: datetime) -> str:
    from cati.services.web_links import hotline_text

    env = Environment(autoescape=True)
    slips = [
        {
            "citizen_name": link.citizen_name,
            "office_name": link.office_name,
            "dossier_code": link.dossier_code,
            "url": link.url,
            "qr": base64.b64encode(qr_svg(link.url).encode()).decode("ascii"),
        }
        for link in links
    ]
    return env.from_string(SLIPS).render(
        slips=slips,
        organisation=settings.organisation,
        hotline=hotline_text(settings),
        # The last day on which the link works (a period ending at midnight ends the day before).
        until=(valid_until - timedelta(seconds=1)).strftime("%d/%m/%Y"),
    )


def slips_pdf(links: Sequence, settings, *, valid_until: datetime) -> bytes:
    """The slips as PDF bytes (WeasyPrint)."""
    from weasyprint import HTML

    return HTML(string=slips_html(links, settings, valid_until=valid_until)).write_pdf()
