"""A catalog file (CSV or XLSX) → product rows, its columns recognised by their headers.

Headers are compared lowercased with punctuation and spaces folded, in English and the common
Arabic and Russian names. A file is a catalog when it has a SKU-like, a name-like and a price-like
column; any other CSV (a Q/A list, a price table without SKUs) is left to retrieval alone.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from pathlib import PurePath

from parley_contract.products import ProductRow

ROLES: dict[str, frozenset[str]] = {
    "sku": frozenset(
        {
            "sku",
            "code",
            "item id",
            "item code",
            "product id",
            "product code",
            "article",
            "article number",
            "art",
            "артикул",
            "код",
            "код товара",
            "رمز",
            "كود",
            "رمز المنتج",
            "رقم الصنف",
            "رمز الصنف",
        }
    ),
    "name": frozenset(
        {
            "name",
            "title",
            "product",
            "product name",
            "item",
            "item name",
            "название",
            "наименование",
            "товар",
            "имя",
            "الاسم",
            "اسم",
            "اسم المنتج",
            "المنتج",
        }
    ),
    "price": frozenset({"price", "unit price", "cost", "retail price", "цена", "стоимость", "السعر", "سعر", "الثمن"}),
    "currency": frozenset({"currency", "валюта", "العملة"}),
    "stock": frozenset(
        {
            "stock",
            "available",
            "availability",
            "quantity",
            "qty",
            "in stock",
            "stock qty",
            "instock",
            "наличие",
            "остаток",
            "количество",
            "в наличии",
            "المخزون",
            "الكمية",
            "متوفر",
            "التوفر",
        }
    ),
    "category": frozenset({"category", "type", "категория", "тип", "الفئة", "النوع", "القسم"}),
}

#: Words naming a currency, in a header ("price_aed", "Price (USD)", "цена, руб") or beside a price.
CURRENCY_WORDS: dict[str, str] = {
    "aed": "AED",
    "dirham": "AED",
    "dirhams": "AED",
    "درهم": "AED",
    "usd": "USD",
    "$": "USD",
    "eur": "EUR",
    "€": "EUR",
    "euro": "EUR",
    "gbp": "GBP",
    "£": "GBP",
    "rub": "RUB",
    "руб": "RUB",
    "рубли": "RUB",
    "rur": "RUB",
    "₽": "RUB",
    "sar": "SAR",
    "ريال": "SAR",
    "qar": "QAR",
    "kwd": "KWD",
    "omr": "OMR",
    "bhd": "BHD",
    "egp": "EGP",
    "try": "TRY",
    "inr": "INR",
    "kzt": "KZT",
    "тенге": "KZT",
}

_YES = {"yes", "y", "true", "in stock", "available", "да", "есть", "в наличии", "نعم", "متوفر"}
_NO = {"no", "n", "false", "out of stock", "unavailable", "sold out", "нет", "لا", "غير متوفر", "نفد"}
_ARABIC_INDIC = str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹", "01234567890123456789")


class NotACatalog(Exception):
    """The table lacks a SKU, name or price column."""


@dataclass
class Columns:
    """Which column index plays which role; `attributes` maps the rest to their headers."""

    roles: dict[str, int]
    header_currency: str | None
    attributes: dict[int, str] = field(default_factory=dict)


def fold(text: str) -> str:
    """Lowercase, punctuation and underscores to single spaces (Arabic and Cyrillic letters kept)."""
    text = text.translate(_ARABIC_INDIC).casefold()
    return " ".join(re.sub(r"[^\w$€£₽]+|_", " ", text).split())


def _role_of(header: str) -> tuple[str | None, str | None]:
    """(role, currency named in the header) for one header."""
    words = fold(header).replace("$", " $ ").replace("€", " € ").replace("£", " £ ").replace("₽", " ₽ ").split()
    currency = next((CURRENCY_WORDS[w] for w in words if w in CURRENCY_WORDS), None)
    rest = " ".join(w for w in words if w not in CURRENCY_WORDS)
    for role, names in ROLES.items():
        if rest in names or rest.replace(" ", "") in names:
            return role, currency if role == "price" else None
    return None, None


def map_columns(headers: list[str]) -> Columns:
    """The role of each header; raises NotACatalog without a SKU, a name and a price column."""
    roles: dict[str, int] = {}
    header_currency: str | None = None
    attributes: dict[int, str] = {}
    for index, header in enumerate(headers):
        role, currency = _role_of(header or "")
        if role is not None and role not in roles:
            roles[role] = index
            header_currency = header_currency or currency
        elif (header or "").strip():
            attributes[index] = header.strip()
    missing = [role for role in ("sku", "name", "price") if role not in roles]
    if missing:
        raise NotACatalog(f"no {', '.join(missing)} column")
    return Columns(roles=roles, header_currency=header_currency, attributes=attributes)


def _cell(row: list[str], index: int | None) -> str:
    if index is None or index >= len(row):
        return ""
    return row[index].strip()


def parse_price(text: str) -> tuple[str | None, str | None]:
    """(the amount as written, a currency written beside it) from a price cell: "AED 4,850" → ("4,850", "AED")."""
    found = re.search(r"\d[\d\s.,]*\d|\d", text.translate(_ARABIC_INDIC))
    if found is None:
        return None, None
    words = fold(text.replace(found.group(), " ")).replace("$", " $ ").replace("€", " € ").split()
    currency = next((CURRENCY_WORDS[w] for w in words if w in CURRENCY_WORDS), None)
    return found.group().strip(), currency


def price_value(price: str) -> float | None:
    """The amount as a number for filters ("4,850" → 4850, "1 290,50" → 1290.5); None if unreadable."""
    text = price.replace(" ", "").replace("\u00a0", "")
    if "," in text and "." in text:
        text = text.replace(",", "") if text.rfind(".") > text.rfind(",") else text.replace(".", "").replace(",", ".")
    elif "," in text:
        head, _, tail = text.rpartition(",")
        text = head.replace(",", "") + ("." if len(tail) != 3 else "") + tail
    try:
        return float(text)
    except ValueError:
        return None


def parse_stock(text: str) -> tuple[int | None, bool | None]:
    folded = fold(text)
    if re.fullmatch(r"-?\d+(\.0+)?", folded.replace(" ", "")):
        quantity = int(float(folded.replace(" ", "")))
        return quantity, quantity > 0
    if folded in _YES:
        return None, True
    if folded in _NO:
        return None, False
    return None, None


def row_to_product(row: list[str], columns: Columns) -> ProductRow | None:
    """One product, or None for a row without a SKU or a name (a blank or a subtotal line)."""
    sku, name = _cell(row, columns.roles["sku"]), _cell(row, columns.roles["name"])
    if not sku or not name:
        return None
    price, cell_currency = parse_price(_cell(row, columns.roles["price"]))
    currency_cell = _cell(row, columns.roles.get("currency"))
    currency = CURRENCY_WORDS.get(fold(currency_cell), currency_cell.upper() or None) if currency_cell else None
    stock, in_stock = parse_stock(_cell(row, columns.roles.get("stock")))
    attributes = {header: _cell(row, index) for index, header in columns.attributes.items() if _cell(row, index)}
    return ProductRow(
        sku=sku[:100],
        name=name[:300],
        price=price,
        currency=(currency or cell_currency or columns.header_currency),
        stock=stock,
        in_stock=in_stock,
        category=_cell(row, columns.roles.get("category")) or None,
        attributes=attributes,
    )


def products_from_table(headers: list[str], rows: list[list[str]]) -> list[ProductRow]:
    """The table's products (raises NotACatalog); a repeated SKU keeps its last row, as an upsert would."""
    columns = map_columns(headers)
    products: dict[str, ProductRow] = {}
    for row in rows:
        product = row_to_product(row, columns)
        if product is not None:
            products[product.sku] = product
    return list(products.values())


def read_csv(data: bytes) -> tuple[list[str], list[list[str]]]:
    text = _decode(data)
    dialect: type[csv.Dialect]
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    rows = [row for row in csv.reader(io.StringIO(text), dialect=dialect) if any(cell.strip() for cell in row)]
    return (rows[0], rows[1:]) if rows else ([], [])


def _decode(data: bytes) -> str:
    for encoding in ("utf-8-sig", "cp1251", "cp1252"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return data.decode("utf-8", errors="replace")


def _xlsx_text(value: object) -> str:
    # openpyxl gives 4850.0 for a cell typed 4850: write it as the sheet shows it.
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return "" if value is None else str(value)


def read_xlsx(data: bytes) -> tuple[list[str], list[list[str]]]:
    """The first sheet's rows as text; the first non-empty row is the header."""
    from openpyxl import load_workbook

    workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    try:
        sheet = workbook.worksheets[0]
        rows = [[_xlsx_text(v) for v in row] for row in sheet.iter_rows(values_only=True)]
    finally:
        workbook.close()
    rows = [row for row in rows if any(cell.strip() for cell in row)]
    return (rows[0], rows[1:]) if rows else ([], [])


def read_table(name: str, data: bytes) -> tuple[list[str], list[list[str]]] | None:
    """A CSV or XLSX file's header and rows; None for any other file type."""
    suffix = PurePath(name).suffix.lower()
    if suffix == ".csv":
        return read_csv(data)
    if suffix == ".xlsx":
        return read_xlsx(data)
    return None


def parse_catalog(name: str, data: bytes) -> list[ProductRow] | None:
    """The products of a catalog file; None when the file is not a table or not a catalog."""
    table = read_table(name, data)
    if table is None:
        return None
    try:
        return products_from_table(*table)
    except NotACatalog:
        return None
