"""The shapes of Wazzup's webhook bodies; unknown fields are kept, missing ones tolerated."""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

_SURROGATE = re.compile("[\ud800-\udfff]")


def _without_lone_surrogates(value: Any) -> Any:
    """JSON's `\\ud800` escapes parse into strings no encoder (nor pydantic) accepts; a customer's
    message must not be dropped for one odd character, so each lone surrogate becomes U+FFFD."""
    if isinstance(value, str):
        if _SURROGATE.search(value) is None:
            return value
        return value.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    if isinstance(value, dict):
        return {_without_lone_surrogates(k): _without_lone_surrogates(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_without_lone_surrogates(v) for v in value]
    return value


class _Lenient(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)

    @model_validator(mode="before")
    @classmethod
    def _replace_lone_surrogates(cls, data: Any) -> Any:
        return _without_lone_surrogates(data)


class Contact(_Lenient):
    name: str | None = None
    phone: str | None = None
    username: str | None = None


class WazzupMessage(_Lenient):
    message_id: str = Field(alias="messageId", min_length=1, max_length=100)
    channel_id: str | None = Field(default=None, alias="channelId")
    chat_type: str | None = Field(default=None, alias="chatType")
    chat_id: str = Field(alias="chatId", min_length=1, max_length=100)
    type: str = "text"
    is_echo: bool = Field(default=False, alias="isEcho")
    status: str | None = None
    text: str | None = None
    content_uri: str | None = Field(default=None, alias="contentUri")
    contact: Contact | None = None
    is_deleted: bool = Field(default=False, alias="isDeleted")
    is_edited: bool = Field(default=False, alias="isEdited")


class WebhookBody(_Lenient):
    test: bool = False
    messages: list[dict[str, Any]] = Field(default_factory=list)
    statuses: list[dict[str, Any]] = Field(default_factory=list)
    channels_updates: list[dict[str, Any]] = Field(default_factory=list, alias="channelsUpdates")
    create_contact: dict[str, Any] | None = Field(default=None, alias="createContact")
    create_deal: dict[str, Any] | None = Field(default=None, alias="createDeal")
