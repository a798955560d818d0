"""Generate the "Patient Policies" PDF of the answer benchmark's second knowledge base (a dental clinic).

Usage:
    python -m bench.clinic_pdf [OUTPUT_PATH]

OUTPUT_PATH defaults to bench/data/answers/clinic_kb/patient-policies.pdf. The same blocks and the
same fixed creation date give the same bytes on every run, so the committed PDF can be regenerated
and compared. Core Helvetica font only: the text is ASCII.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fpdf import FPDF
from fpdf.enums import XPos, YPos

DEFAULT_OUTPUT = Path(__file__).resolve().parent / "data" / "answers" / "clinic_kb" / "patient-policies.pdf"
TITLE = "Pearl Bay Dental Clinic - Patient Policies"
CREATED = datetime(2025, 1, 1, tzinfo=UTC)

BLOCKS = [
    ("h1", TITLE),
    (
        "p",
        "These policies apply to every patient of Pearl Bay Dental Clinic, Al Mirqab Tower, West Bay, Doha. "
        "All amounts are in Qatari riyals (QAR). Last updated: January 2025.",
    ),
    ("h2", "1. Appointments, late arrival and cancellations"),
    (
        "bullets",
        [
            "Please cancel or move an appointment at least 24 hours before it starts. You can do this on "
            "WhatsApp at +974 5512 3478 at no charge.",
            "A cancellation with less than 24 hours' notice, or a missed appointment, costs QAR 150. For "
            "appointments of 2 hours or longer (implants, IV sedation) the fee is QAR 500.",
            "If you arrive more than 15 minutes late, we may need to shorten the treatment or book you again.",
            "After 3 missed appointments in 12 months, we ask for a deposit of QAR 200 when you book.",
        ],
    ),
    ("h2", "2. Deposits and payment"),
    (
        "bullets",
        [
            "Treatment plans over QAR 5,000 need a 30% deposit when you accept the plan.",
            "Payment is due on the day of each visit. Our interest-free payment plan (3 or 6 months) is "
            "available for plans over QAR 3,000 and needs a valid Qatar ID.",
            "Insurance: we bill QLM, Al Koot, Bupa Global, Cigna and AXA directly. If your insurer rejects a "
            "claim, you pay the rejected amount within 30 days.",
        ],
    ),
    ("h2", "3. Refunds"),
    (
        "bullets",
        [
            "Deposits are refunded in full if you cancel a treatment plan within 7 days of paying, before "
            "any treatment has started.",
            "Treatment that has been carried out cannot be refunded. Unopened shop products can be returned "
            "within 14 days with the receipt; opened toothbrushes, brush heads and mouthwash cannot be "
            "returned for hygiene reasons.",
            "Refunds go back to the original payment method within 10 working days.",
        ],
    ),
    ("h2", "4. Treatment guarantees"),
    (
        "bullets",
        [
            "Composite fillings - 2 years.",
            "Crowns and veneers - 5 years.",
            "Dental implants - 10 years on the implant fixture; 5 years on the crown on top of it.",
            "Guarantees need a check-up and cleaning at our clinic at least every 12 months. They do not "
            "cover damage from accidents, sports without a mouth guard, or grinding without the night guard "
            "we advised.",
        ],
    ),
    ("h2", "5. Children, consent and records"),
    (
        "bullets",
        [
            "Patients under 18 must come with a parent or legal guardian, who signs the consent form.",
            "We keep dental records for 10 years after your last visit. You can ask for a copy of your records "
            "and X-rays; we send them by email within 5 working days at no charge.",
            "We share your records with another dentist or your insurer only with your written consent.",
        ],
    ),
    ("h2", "6. Complaints"),
    (
        "p",
        "Please tell the clinic manager first, in person or at feedback@pearlbaydental.qa. We reply within "
        "3 working days. If you are not satisfied with our reply, you can contact the Department of "
        "Healthcare Professions at the Ministry of Public Health.",
    ),
]


# The sample guide's layout (scripts/make_sample_pdf.py), which mypy cannot import from here.
NEXT_LINE: dict[str, Any] = {"new_x": XPos.LMARGIN, "new_y": YPos.NEXT}


def render_block(pdf: FPDF, kind: str, content: Any) -> None:
    if kind == "h1":
        pdf.set_font("Helvetica", "B", 15)
        pdf.multi_cell(0, 8, content, **NEXT_LINE)
        pdf.ln(1)
    elif kind == "h2":
        pdf.ln(1.5)
        pdf.set_font("Helvetica", "B", 11)
        pdf.multi_cell(0, 6, content, **NEXT_LINE)
    elif kind == "p":
        pdf.set_font("Helvetica", "", 9.5)
        pdf.multi_cell(0, 4.6, content, **NEXT_LINE)
        pdf.ln(1)
    else:
        pdf.set_font("Helvetica", "", 9.5)
        for item in content:
            pdf.set_x(pdf.l_margin)
            pdf.cell(5, 4.6, "-")
            pdf.multi_cell(0, 4.6, item, **NEXT_LINE)
            pdf.ln(0.6)


class PolicyPDF(FPDF):
    def footer(self) -> None:
        self.set_y(-12)
        self.set_font("Helvetica", "", 8)
        self.set_text_color(120, 120, 120)
        self.cell(0, 5, f"{TITLE} - page {self.page_no()}", align="C")
        self.set_text_color(0, 0, 0)


def build(output: Path) -> Path:
    pdf = PolicyPDF(format="A4")
    pdf.set_margins(18, 15, 18)
    pdf.set_auto_page_break(auto=True, margin=16)
    pdf.set_title(TITLE)
    pdf.set_author("Pearl Bay Dental Clinic")
    pdf.set_creation_date(CREATED)
    pdf.add_page()
    for kind, content in BLOCKS:
        render_block(pdf, kind, content)
    output.parent.mkdir(parents=True, exist_ok=True)
    pdf.output(str(output))
    return output


def main(argv: list[str]) -> int:
    path = build(Path(argv[1]) if len(argv) > 1 else DEFAULT_OUTPUT)
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
