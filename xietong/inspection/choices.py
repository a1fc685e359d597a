"""Choices of the inspection app."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class ListingStatus(models.TextChoices):
    LISTED = "listed", _("列入名单")
    REMOVED = "removed", _("已移出")
