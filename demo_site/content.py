"""The programme facts the pages show, kept as data in one place.

Figures appear on several pages (the overview, the two action pages and the
facts page); keeping them here means a correction is made once.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Figure:
    """One headline number of the programme.

    :param value: the number itself, used to scale the chart.
    :param label: what is counted, written to read after the number.
    :param qualifier: a word such as "nearly" when the number is approximate.
    """

    value: int
    label: str
    qualifier: str = ""

    @property
    def number(self) -> str:
        """The value with thousands separators: ``25,000``."""
        return f"{self.value:,}"

    @property
    def display(self) -> str:
        """The number with its qualifier, if any: ``nearly 300``."""
        return f"{self.qualifier} {self.number}".lstrip()

    @property
    def title(self) -> str:
        """The label starting with a capital, for table rows and chart bars."""
        return self.label[:1].upper() + self.label[1:]


@dataclass(frozen=True)
class Resource:
    """A link to further reading on an official European Commission site."""

    title: str
    url: str
    summary: str


#: Targets for Key Action 2 up to the end of 2020.
TARGETS: tuple[Figure, ...] = (
    Figure(25_000, "strategic partnerships"),
    Figure(125_000, "organisations in strategic partnerships"),
    Figure(300, "Knowledge and Sector Skills Alliances", qualifier="nearly"),
    Figure(3_500, "education institutions and enterprises in alliances"),
)

#: The budget of the whole Erasmus+ programme for 2014 to 2020.
BUDGET_EUR_BILLION = "14.8"
PROGRAMME_PERIOD = "2014 to 2020"

#: Further reading, in the order the resources page lists it.
RESOURCES: tuple[Resource, ...] = (
    Resource(
        "Presentation on Erasmus+ Key Action 2",
        "https://ec.europa.eu/programmes/erasmus-plus/resources/documents/ka2-presentation_en",
        "A slide presentation that walks through the aims of Key Action 2, "
        "who can apply and what kinds of project it funds.",
    ),
    Resource(
        "EACEA: Strategic partnerships",
        "https://eacea.ec.europa.eu/erasmus-plus/actions/key-action-2/strategic-partnerships_en",
        "The European Education and Culture Executive Agency explains how strategic "
        "partnerships are selected and managed.",
    ),
    Resource(
        "National Erasmus+ offices: contact details",
        "https://ec.europa.eu/programmes/erasmus-plus/contact/national-agencies_en",
        "Each participating country has a national office that advises applicants. "
        "Find the one for your country here.",
    ),
    Resource(
        "Key Action 2 factsheet",
        "https://ec.europa.eu/programmes/erasmus-plus/sites/default/files/ka2-factsheet_en.pdf",
        "A two-page summary of Key Action 2 that is handy to print or share (PDF).",
    ),
)


#: The video on the overview page, embedded as YouTube's "Share > Embed" gives it. The id is
#: a stand-in: set it to the Erasmus+ film the site wants to show. Behind its placeholder
#: until the visitor loads it, so the page works offline and sets nothing beforehand.
VIDEO_URL = "https://www.youtube.com/embed/ErasmusKA2x"
#: The map on the strategic partnerships page: OpenStreetMap's embed of Europe, where
#: partner organisations are based (the programme countries from Iceland to Turkey).
MAP_URL = (
    "https://www.openstreetmap.org/export/embed.html?bbox=-25.0%2C34.0%2C45.0%2C71.5&layer=mapnik"
)
