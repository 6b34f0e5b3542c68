"""What the broadcast modules share: reading one broadcast."""

from __future__ import annotations

from core.errors import NotFound
from core.i18n import _
from core.models import Broadcast


async def _get(broadcast_id: int, *, for_update: bool = False) -> Broadcast:
    query = Broadcast.filter(id=broadcast_id)
    broadcast = await (query.select_for_update() if for_update else query).first()
    if broadcast is None:
        raise NotFound(_("There is no broadcast %(id)d.", id=broadcast_id))
    return broadcast
