"""Who is asking: the Viewer a request or a socket stands for.

Until user accounts arrive, a client states its agency and clearance itself (URL, socket auth,
HTTP headers). This module is the one place that turns those claims into a Viewer, so that
authentication can replace it without touching any read path.
"""

from __future__ import annotations

from pydantic import ValidationError

from dashboard.model import Marking, Viewer

PUBLIC = Viewer(agency="public", clearance=Marking.CLEAR)


class AccessError(ValueError):
    """Claims that do not make a viewer; the message says which and why."""


def viewer_from_claims(agency: object, clearance: object) -> Viewer:
    """The Viewer for stated claims; missing claims mean the public view (TLP:CLEAR)."""
    if agency in (None, "") and clearance in (None, ""):
        return PUBLIC
    try:
        return Viewer(agency=agency or PUBLIC.agency, clearance=clearance or Marking.CLEAR)
    except ValidationError as exc:
        error = exc.errors()[0]
        field = error["loc"][0] if error["loc"] else "viewer"
        raise AccessError(f"{field}: {error['msg'].removeprefix('Value error, ')}") from None
