"""Who may open a passage photo, and the record of who did.

Only the pupil's own guardians, and staff of the site where it was taken, may open a photo;
anyone else is told it does not exist, and the attempt is audited. Every opening is recorded,
and a guardian sees who opened their children's photos.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from core import actors, audit
from core.channels import CHANNELS, spec
from core.i18n import Message, _
from core.models import Channel, Guardian, Passage, Photo, PhotoView, StaffAccount, StaffRole


@dataclass(frozen=True)
class Viewer:
    guardian: Guardian | None = None
    staff: StaffAccount | None = None

    @property
    def actor(self) -> str:
        if self.guardian:
            return actors.guardian(self.guardian)
        assert self.staff is not None  # a viewer is a guardian or a staff member
        return actors.staff(self.staff)


@dataclass(frozen=True)
class ViewRecord:
    viewed_at: datetime
    who: Message


async def open_photo(token: str, viewer: Viewer, *, record: bool = True) -> Photo | None:
    """The photo behind ``token`` if ``viewer`` may see it (and the view recorded), else None."""
    photo = await Photo.get_or_none(token=token).prefetch_related("passage")
    if photo is None or not await _may_see(photo.passage, viewer):
        await audit.record(
            viewer.actor,
            "photo.denied",
            target=f"photo:{photo.id}" if photo else None,
            details={"token_prefix": token[:6]},
        )
        return None
    if photo.expires_at <= datetime.now(UTC):
        return None  # its own guardian, too late: not found, but nothing suspicious
    if record:
        await PhotoView.create(photo=photo, guardian=viewer.guardian, staff=viewer.staff)
    return photo


async def _may_see(passage: Passage, viewer: Viewer) -> bool:
    if viewer.guardian is not None:
        return passage.pupil_id is not None and await viewer.guardian.pupils.filter(id=passage.pupil_id).exists()
    staff = viewer.staff
    assert staff is not None  # a viewer is a guardian or a staff member
    return staff.role is StaffRole.STAFF and await staff.sites.filter(id=passage.site_id).exists()


async def views_of(photo: Photo, *, me: Guardian) -> list[ViewRecord]:
    records = []
    for view in await PhotoView.filter(photo=photo).order_by("-viewed_at").prefetch_related("guardian", "staff"):
        if view.via in CHANNELS:  # fetched by a chat app's servers from a link (core.channels.line_photos)
            who = _("%(app)s's servers, to show it in a chat", app=spec(Channel(view.via)).name)
        elif view.guardian_id == me.id:
            who = _("You")
        elif view.guardian is not None:
            who = _("Guardian %(name)s", name=view.guardian.name)
        elif view.staff is not None:
            who = _("School staff (%(login_id)s)", login_id=view.staff.login_id)
        else:
            who = _("A removed account")
        records.append(ViewRecord(view.viewed_at, who))
    return records
