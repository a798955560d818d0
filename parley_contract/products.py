"""The product catalog on the wire: rows the worker parses from a catalog file and the gateway stores."""

from __future__ import annotations

from pydantic import BaseModel, Field


class ProductRow(BaseModel):
    sku: str = Field(min_length=1, max_length=100)
    name: str = Field(min_length=1, max_length=300)
    #: The price exactly as the row writes it ("4850", "1 290,50"): answers quote it, never a recomputed number.
    price: str | None = Field(default=None, max_length=50)
    currency: str | None = Field(default=None, max_length=10)
    #: The quantity when the row gives one; None when it only says yes/no or nothing.
    stock: int | None = None
    in_stock: bool | None = None
    category: str | None = Field(default=None, max_length=200)
    #: Every other column, by its header as written.
    attributes: dict[str, str] = Field(default_factory=dict)
    #: The catalog document the row came from: filled by the gateway when it hands rows out.
    document_id: str | None = None
    document: str | None = None


class ProductBatch(BaseModel):
    """Some rows of one catalog document, written by one ingestion (`generation`): a large catalog
    is sent in several batches, then settled (ProductsSettle)."""

    generation: str = Field(pattern=r"^[0-9a-f]{32}$")
    products: list[ProductRow] = Field(default_factory=list, max_length=5_000)


class ProductsSettle(BaseModel):
    """The ingestion `generation` has sent every row: the document's other rows are removed."""

    generation: str = Field(pattern=r"^[0-9a-f]{32}$")


class ProductsOut(BaseModel):
    products: list[ProductRow]
