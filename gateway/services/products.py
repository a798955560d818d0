"""A tenant's catalog rows: written by the worker from catalog documents, read by it to answer.

An ingestion writes its rows in batches under one `generation`, then settles: the document's rows
that generation did not write (removed from the file) are deleted. A SKU is one row per tenant:
a later document listing the same SKU takes it over.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from gateway.models import Document, Product, utcnow
from parley_contract.products import ProductRow

_FIELDS = ("name", "price", "currency", "stock", "in_stock", "category", "attributes")


async def upsert_products(
    session: AsyncSession, *, document: Document, generation: str, rows: Sequence[ProductRow]
) -> int:
    """Insert or update the rows (by the tenant's SKU) as the document's, stamped with `generation`."""
    by_sku = {row.sku: row for row in rows}
    existing = {
        product.sku: product
        for product in await session.exec(
            select(Product).where(Product.tenant_id == document.tenant_id, col(Product.sku).in_(list(by_sku)))
        )
    }
    for sku, row in by_sku.items():
        product = existing.get(sku) or Product(
            tenant_id=document.tenant_id, document_id=document.id, generation=generation, sku=sku, name=row.name
        )
        for name in _FIELDS:
            setattr(product, name, getattr(row, name))
        product.document_id, product.generation, product.updated_at = document.id, generation, utcnow()
        session.add(product)
    await session.commit()
    return len(by_sku)


async def settle_products(session: AsyncSession, *, document: Document, generation: str) -> int:
    """Delete the document's rows that the ingestion `generation` did not write; how many."""
    result = await session.exec(
        delete(Product).where(
            col(Product.tenant_id) == document.tenant_id,
            col(Product.document_id) == document.id,
            col(Product.generation) != generation,
        )
    )
    await session.commit()
    return int(result.rowcount or 0)


async def remove_document_products(session: AsyncSession, *, document_id: str) -> int:
    result = await session.exec(delete(Product).where(col(Product.document_id) == document_id))
    await session.commit()
    return int(result.rowcount or 0)


async def list_products(session: AsyncSession, *, tenant_id: str) -> list[ProductRow]:
    """The tenant's rows by SKU, each with the name of the document it came from."""
    result = await session.exec(
        select(Product, Document.name)
        .join(Document, col(Document.id) == col(Product.document_id), isouter=True)
        .where(Product.tenant_id == tenant_id)
        .order_by(col(Product.sku))
    )
    return [
        ProductRow(
            sku=product.sku,
            **{name: getattr(product, name) for name in _FIELDS},
            document_id=product.document_id,
            document=document_name,
        )
        for product, document_name in result
    ]
