"""Catalog header mapping: the sample catalog, other column names and currencies, XLSX, non-catalogs."""

from __future__ import annotations

import io
from pathlib import Path

from openpyxl import Workbook

from ai_worker.catalog.columns import map_columns, parse_catalog, price_value

SAMPLE = Path(__file__).resolve().parents[3] / "sample_kb" / "catalog.csv"


def test_sample_catalog_rows() -> None:
    products = {p.sku: p for p in parse_catalog("catalog.csv", SAMPLE.read_bytes()) or []}
    assert len(products) == 69
    sofa_bed = products["DO-SOF-1088"]
    assert sofa_bed.name == "Jumeirah Sofa Bed"
    assert (sofa_bed.price, sofa_bed.currency, sofa_bed.stock, sofa_bed.in_stock) == ("3950", "AED", 0, False)
    assert sofa_bed.category == "Sofas"
    assert sofa_bed.attributes["dimensions_cm"] == "205x92x86"
    assert sofa_bed.attributes["colors"] == "Light Grey, Charcoal, Navy"
    assert "in_stock" not in sofa_bed.attributes and "price_aed" not in sofa_bed.attributes


def test_other_column_names_and_currency() -> None:
    csv = (
        b"Item ID;Title;Price (USD);Qty;Type;Duration\n"
        b"CL-001;Dental cleaning;120;yes;Dental;45 min\n"
        b'CL-002;Whitening;"1,250";no;Dental;90 min\n'
    )
    products = parse_catalog("prices.csv", csv) or []
    assert [(p.sku, p.name, p.price, p.currency, p.in_stock, p.category) for p in products] == [
        ("CL-001", "Dental cleaning", "120", "USD", True, "Dental"),
        ("CL-002", "Whitening", "1,250", "USD", False, "Dental"),
    ]
    assert products[0].attributes == {"Duration": "45 min"}
    assert price_value("1,250") == 1250


def test_russian_headers_and_currency_column() -> None:
    csv = 'Артикул,Наименование,"Цена, руб",Остаток\nA-1,Диван Лива,"12 990",3\n'.encode()
    (product,) = parse_catalog("каталог.csv", csv) or []
    assert (product.sku, product.name, product.price, product.currency, product.stock) == (
        "A-1",
        "Диван Лива",
        "12 990",
        "RUB",
        3,
    )
    arabic = "رمز المنتج,اسم المنتج,السعر,العملة\nX1,كنبة,٣٥٠٠,درهم\n".encode()
    (item,) = parse_catalog("catalog.csv", arabic) or []
    assert (item.sku, item.price, item.currency) == ("X1", "3500", "AED")


def test_xlsx_catalog() -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["Code", "Product", "Price EUR", "Available", "Colour"])
    sheet.append(["TR-10", "Desert safari", 85, 12, None])
    sheet.append(["TR-11", "Dhow cruise", 99.5, 0, "blue"])
    sheet.append([None, None, None, None, None])
    buffer = io.BytesIO()
    book.save(buffer)
    products = parse_catalog("tours.xlsx", buffer.getvalue()) or []
    assert [(p.sku, p.price, p.currency, p.stock, p.attributes) for p in products] == [
        ("TR-10", "85", "EUR", 12, {}),
        ("TR-11", "99.5", "EUR", 0, {"Colour": "blue"}),
    ]


def test_not_a_catalog() -> None:
    assert parse_catalog("faq.csv", b"question,answer\nHow?,Like this\n") is None
    assert parse_catalog("faq.md", b"# FAQ") is None
    assert parse_catalog("prices.csv", b"name,price\nsofa,10\n") is None  # no SKU column


def test_removed_row_is_absent() -> None:
    full = SAMPLE.read_bytes()
    lines = full.decode().splitlines(keepends=True)
    without = "".join(line for line in lines if not line.startswith("DO-SOF-1088")).encode()
    skus = {p.sku for p in parse_catalog("catalog.csv", without) or []}
    assert "DO-SOF-1088" not in skus and len(skus) == 68


def test_header_mapping_is_punctuation_insensitive() -> None:
    columns = map_columns(["  S.K.U ", "Product-Name", "PRICE_AED", "In Stock"])
    assert columns.roles == {"sku": 0, "name": 1, "price": 2, "stock": 3}
    assert columns.header_currency == "AED"
