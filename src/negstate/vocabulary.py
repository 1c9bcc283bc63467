"""Names for the parties, issues and categories that come up again and again.

They are plain strings: any identifier works where these do, so a user adds a party
or an exchange category by simply using it.
"""

from __future__ import annotations

from typing import Final

__all__ = [
    "AIR",
    "BODIES",
    "CEASEFIRE",
    "CHILDREN",
    "CIVILIANS",
    "DELEGATIONS",
    "ENERGY_INFRASTRUCTURE",
    "ENVOYS",
    "IN_PERSON",
    "LAND",
    "LEADERS",
    "LEADERS_MEETING",
    "MINISTERS",
    "PEACE_DEAL",
    "PHONE",
    "PRISONERS",
    "PRISONERS_OF_WAR",
    "PRISONER_EXCHANGE",
    "REMOTE",
    "SANCTIONS",
    "SEA",
    "TECHNICAL",
    "TERRITORY",
    "VIDEO",
]

# Exchange categories: whom a swap released.
PRISONERS_OF_WAR: Final = "prisoners_of_war"
PRISONERS: Final = "prisoners"
"""Detainees in a report that does not say whether they are soldiers or civilians."""
CIVILIANS: Final = "civilians"
BODIES: Final = "bodies"
CHILDREN: Final = "children"

# Issues negotiators argue about.
CEASEFIRE: Final = "ceasefire"
PRISONER_EXCHANGE: Final = "prisoner_exchange"
LEADERS_MEETING: Final = "leaders_meeting"
PEACE_DEAL: Final = "peace_deal"
TERRITORY: Final = "territory"
SANCTIONS: Final = "sanctions"

# Scope of a ceasefire.
LAND: Final = "land"
SEA: Final = "sea"
AIR: Final = "air"
ENERGY_INFRASTRUCTURE: Final = "energy_infrastructure"

# Who meets.
LEADERS: Final = "leaders"
MINISTERS: Final = "ministers"
DELEGATIONS: Final = "delegations"
ENVOYS: Final = "envoys"
TECHNICAL: Final = "technical"

# How they meet.
IN_PERSON: Final = "in_person"
PHONE: Final = "phone"
VIDEO: Final = "video"
REMOTE: Final = "remote"
"""Some delegations present, others joining from afar."""
