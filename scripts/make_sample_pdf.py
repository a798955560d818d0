#!/usr/bin/env python3
"""Generate the sample "Warranty & Care Guide" PDF for the Dune & Oak Home
sample knowledge base.

Usage:
    python scripts/make_sample_pdf.py [OUTPUT_PATH]

OUTPUT_PATH defaults to sample_kb/warranty-and-care.pdf next to this script's
parent directory. Requires fpdf2 (``pip install fpdf2``). Only the core
Helvetica font is used, so all text must be ASCII / latin-1.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from fpdf import FPDF
from fpdf.enums import XPos, YPos

DEFAULT_OUTPUT = Path(__file__).resolve().parent.parent / "sample_kb" / "warranty-and-care.pdf"

TITLE = "Dune & Oak Home - Warranty & Care Guide"

# Each page is a list of blocks: ("h1", text), ("h2", text), ("p", text),
# or ("bullets", [text, ...]).
PAGE_1 = [
    ("h1", TITLE),
    (
        "p",
        "Thank you for choosing Dune & Oak Home. Every piece we sell is checked "
        "in our Al Quoz warehouse before delivery and is covered by the warranty "
        "below. This guide also explains how to look after your furniture in the "
        "UAE climate. Keep it together with your order confirmation.",
    ),
    ("h2", "1. Warranty periods"),
    (
        "p",
        "The warranty starts on the date of delivery, covers manufacturing "
        "defects in materials and workmanship under normal household use, and "
        "applies to the original purchaser for items delivered in the UAE.",
    ),
    (
        "bullets",
        [
            "Frames - 5 years: the structural frames of sofas, armchairs, beds, "
            "dining tables, dining chairs, wardrobes, desks and kids' furniture, "
            "including joints, legs and bed slats.",
            "Upholstery - 1 year: fabrics, leather, seat foam, cushions and stitching.",
            "Mechanisms - 1 year: recliner motors, sofa-bed mechanisms, gas-lift "
            "storage beds, office chair gas lifts and castors, drawer runners and "
            "sliding wardrobe tracks. Standing desk motors are covered for 2 years.",
            "Mattresses - 10 years: Dune & Oak Sleep mattresses, against broken or "
            "loose springs and body impressions deeper than 3 cm. Other mattress "
            "brands carry their own manufacturer's warranty.",
            "Outdoor furniture - 2 years on teak and aluminium frames; 1 year on "
            "rope, wicker, cushions and parasol canopies.",
            "Rugs, lamps and decor - 1 year against manufacturing defects, including the wiring and switches of lamps.",
            "Clearance and ex-display items - 1 year on frames only.",
        ],
    ),
    ("h2", "2. What the warranty does not cover"),
    (
        "bullets",
        [
            "Normal wear and tear, such as fabric pilling, leather creasing, "
            "softening of seat foam and the natural patina of aniline leather.",
            "Natural features of wood and stone: knots, grain and colour variation, "
            "fine surface checks in solid wood, and the veining or small pits in marble.",
            "Fading or drying caused by direct sunlight, heat, or air from AC vents.",
            "Stains, spills, water damage, pet damage, burns and scratches.",
            "Misuse or overloading, for example standing on chairs or sitting on arms.",
            "Etching (dull marks) on marble caused by acidic food or cleaners.",
            "Furniture used in offices, hotels or rentals, unless bought through our "
            "Trade & Projects team with a commercial warranty.",
            "Items assembled, moved, repaired or modified by anyone other than Dune & Oak.",
        ],
    ),
    ("h2", "3. How to make a warranty claim"),
    (
        "bullets",
        [
            "Step 1: Send us your order number (it starts with DO- followed by 6 "
            "digits, for example DO-208451), 2 to 4 clear photos of the problem, a "
            "photo of the product label and a short description. Use WhatsApp on "
            "+971 50 555 0142 or email warranty@duneandoak.ae.",
            "Step 2: Our after-sales team replies within 2 working days. If needed, "
            "a technician will visit. Technician visits are free in Dubai, Sharjah "
            "and Ajman; in other emirates a visit fee of AED 150 applies, refunded "
            "if the claim is approved.",
            "Step 3: We repair the item, replace the faulty part or replace the "
            "whole product. Most repairs are finished within 10 working days. If a "
            "product has been discontinued, we offer a comparable item or store "
            "credit for the purchase price.",
        ],
    ),
    (
        "p",
        "A repaired or replaced item keeps the remaining period of the original "
        "warranty. The product label is usually under the seat, on the back of "
        "the headboard or inside a drawer. This warranty does not affect your "
        "rights under UAE consumer protection law.",
    ),
]

PAGE_2 = [
    ("h1", "Caring for your furniture"),
    (
        "p",
        "General rules for every room: keep furniture out of strong direct "
        "sunlight, at least 50 cm away from AC vents, and ideally at 40 to 60 "
        "percent humidity. Lift furniture when you move it instead of dragging "
        "it, and put felt pads under legs on tiled and marble floors.",
    ),
    ("h2", "Solid wood and veneer"),
    (
        "bullets",
        [
            "Dust weekly with a soft, dry microfibre cloth, following the grain.",
            "Wipe up spills at once and always use coasters, placemats and trivets.",
            "Avoid silicone polish sprays and ammonia-based glass cleaners.",
            "Feed oiled finishes with Dune & Oak wood polish every 3 to 6 months.",
            "Very dry AC air can open fine cracks; a humidifier in summer helps.",
        ],
    ),
    ("h2", "Leather"),
    (
        "bullets",
        [
            "Dust regularly and vacuum the seams with a soft brush attachment.",
            "Apply Dune & Oak leather balm every 6 months to stop the leather drying out.",
            "Blot spills with a dry white cloth; do not rub the stain.",
            "Never use baby wipes, soap, alcohol or all-purpose sprays on leather.",
            "Aniline leather darkens and marks with use - this is part of its charm.",
        ],
    ),
    ("h2", "Linen, velvet and boucle fabrics"),
    (
        "bullets",
        [
            "Vacuum weekly with an upholstery brush; turn and plump loose cushions.",
            "Blot spills from the outside of the stain towards the centre.",
            "Linen loose covers are dry clean only. Do not tumble dry them.",
            "Brush velvet gently in one direction to restore crushed pile.",
            "If a boucle loop is pulled, trim it with scissors - never pull it out.",
        ],
    ),
    ("h2", "Outdoor teak and aluminium"),
    (
        "bullets",
        [
            "Untreated teak weathers to a silver-grey colour within 6 to 12 months.",
            "To keep the honey tone, apply teak protector twice a year.",
            "Wash with mild soap and a soft brush; never use a pressure washer.",
            "Store cushions indoors during sandstorms and the hottest summer months.",
            "Near the sea, rinse aluminium frames with fresh water once a month.",
        ],
    ),
    ("h2", "Marble and natural stone"),
    (
        "bullets",
        [
            "Our marble is sealed, but it is still porous and sensitive to acids.",
            "Wipe up lemon, vinegar, wine, coffee and karak chai straight away.",
            "Clean with a pH-neutral stone cleaner; never use vinegar or bleach.",
            "Reseal marble tops every 12 months with a stone sealer.",
        ],
    ),
    ("h2", "Mattresses"),
    (
        "bullets",
        [
            "Rotate head-to-foot every 3 months in the first year, then every 6 months.",
            "Always use a mattress protector, and air the mattress when changing sheets.",
        ],
    ),
    (
        "p",
        "Need help? Contact Dune & Oak Home, Warehouse 14, Al Khail Road, Al "
        "Quoz Industrial Area 3, Dubai. Phone +971 4 555 0142, WhatsApp "
        "+971 50 555 0142, email hello@duneandoak.ae.",
    ),
]


class GuidePDF(FPDF):
    def footer(self) -> None:
        self.set_y(-12)
        self.set_font("Helvetica", "", 8)
        self.set_text_color(120, 120, 120)
        self.cell(0, 5, f"Dune & Oak Home - Warranty & Care Guide - page {self.page_no()} of 2", align="C")
        self.set_text_color(0, 0, 0)


# After each multi_cell, continue at the left margin on the next line.
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
    elif kind == "bullets":
        pdf.set_font("Helvetica", "", 9.5)
        indent = 5
        for item in content:
            pdf.set_x(pdf.l_margin)
            pdf.cell(indent, 4.6, "-")
            pdf.multi_cell(0, 4.6, item, **NEXT_LINE)
            pdf.ln(0.6)
    else:
        raise ValueError(f"unknown block kind: {kind}")


def build(output: Path) -> Path:
    pdf = GuidePDF(format="A4")
    pdf.set_margins(18, 15, 18)
    pdf.set_auto_page_break(auto=True, margin=16)
    pdf.set_title(TITLE)
    pdf.set_author("Dune & Oak Home")
    for page in (PAGE_1, PAGE_2):
        pdf.add_page()
        for kind, content in page:
            render_block(pdf, kind, content)
    if pdf.page_no() != 2:
        print(f"warning: expected 2 pages, got {pdf.page_no()}", file=sys.stderr)
    output.parent.mkdir(parents=True, exist_ok=True)
    pdf.output(str(output))
    return output


def main(argv: list[str]) -> int:
    output = Path(argv[1]) if len(argv) > 1 else DEFAULT_OUTPUT
    path = build(output)
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
