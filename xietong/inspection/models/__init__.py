"""Models of the inspection app (劳动保障监察). The table keeps the name it had in the exchange app
(``exchange_arrearslisting``), so moving it kept every row (migration 0001)."""

from .arrears import ArrearsListing

__all__ = ["ArrearsListing"]
