"""Proof of consent: one appended record per decision, in a store behind a small protocol.

The gate needs only :class:`RecordStore`'s ``append``: a record is committed before the
decision's cookie is set, and a store that cannot commit raises :class:`StoreUnavailable`.
"""

from __future__ import annotations

from .base import Notice as Notice
from .base import Record as Record
from .base import RecordStore as RecordStore
from .base import StoreUnavailable as StoreUnavailable

__all__ = ["Notice", "Record", "RecordStore", "StoreUnavailable"]
