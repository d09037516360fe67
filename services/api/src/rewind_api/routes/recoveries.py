"""Recoveries: ``/v1/tenants/{tenant}/recoveries`` (DESIGN section 7)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["recoveries"])
