"""API tokens (admin only). A token's secret is returned once, by the POST that creates
it; listings show ids, names and roles, never secrets or hashes."""

from __future__ import annotations

from fastapi import APIRouter

from rewind_api.auth import Admin
from rewind_api.deps import Cursor, Limit, State
from rewind_api.schemas import Page, TokenCreate, TokenCreated, TokenOut
from rewind_api.views import token_view

router = APIRouter(prefix="/v1/tokens", tags=["tokens"])


@router.post("", status_code=201, summary="Create a token (its secret is shown once)")
async def create_token(principal: Admin, state: State, body: TokenCreate) -> TokenCreated:
    secret, record = await state.tokens.create(body.name, body.role, created_by=principal.name)
    return TokenCreated(**token_view(record).model_dump(), token=secret)


@router.get("", summary="Tokens, newest first (revoked ones included)")
async def list_tokens(
    principal: Admin, state: State, cursor: Cursor = None, limit: Limit = 50
) -> Page[TokenOut]:
    records, following = await state.tokens.page(cursor=cursor, limit=limit)
    return Page(items=[token_view(r) for r in records], next=following)


@router.delete("/{token_id}", summary="Revoke a token")
async def revoke_token(principal: Admin, state: State, token_id: str) -> TokenOut:
    return token_view(await state.tokens.revoke(token_id))
