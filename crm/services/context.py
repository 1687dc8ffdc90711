from dataclasses import dataclass
from typing import Any

from crm.models import ApiClient, Associate, ConsentChange, Store


@dataclass(frozen=True)
class ChangeContext:
    """Who changed a record, and where: kept with consent history and store attribution."""

    channel: str = ConsentChange.Channel.SYSTEM
    store: Store | None = None
    associate: Associate | None = None
    api_client: ApiClient | None = None
    user: Any = None
