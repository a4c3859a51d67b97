"""Credit API: holds (its schemas live beside the endpoints)."""

from ninja import Router

router = Router(tags=["credit"])
