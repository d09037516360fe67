"""Difference reports: ``/v1/tenants/{tenant}/difference-reports`` (DESIGN section 7)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["difference reports"])
