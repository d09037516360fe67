"""A recovery's record and its actions, in the ``recovery_actions`` collection.

One collection holds everything a recovery writes (the recoverer's MongoDB role may
write nothing else outside snapshot data), told apart by ``seq``:

- ``seq`` 0, ``_id`` = the recovery (job) id: the **record**: where the recovery came
  from, its scope, the plan's summary and size, the break-glass accounts it checked,
  its pre-recovery snapshot, and the verification run after applying;
- ``seq`` ≥ 1, ``_id`` = ``{recovery}:{seq}``: one **action** per planned action, in plan
  order: :meth:`PlannedAction.to_dict` plus what the executor learns (``outcome``,
  ``error`` from Graph, ``before``/``after``, ``newObjectId``/``newAppId``,
  ``attemptedAt``, ``finishedAt``);
- ``seq`` -1: a pre-recovery snapshot's record (``storage.pre_recovery``).

An action's document is keyed by its position, not by its action id, so a plan
recomputed after a crash before the first write replaces the earlier one in place.
The old → new id map of re-created objects is the set of ``newObjectId``/``newAppId``
values: each is stored as soon as Graph returns it, before the recovery's next write.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from pymongo import ReplaceOne
from pymongo.errors import PyMongoError

from rewind_common.domain.remap import IdMap
from rewind_common.storage.mongo import (
    Collection,
    Document,
    Mongo,
    decode_cursor,
    encode_cursor,
    unavailable,
)

RECORD_SEQ = 0
RECORD_KIND = "recovery"
ACTION_KIND = "action"
OUTCOMES = ("pending", "applied", "failed", "skipped")

#: What the API shows of an action: DESIGN section 7's recovery action, and more.
_HIDDEN = {"_id", "recovery", "kind", "tenantId", "preexisting", "oldAppId", "newAppId"}


def action_key(recovery_id: str, seq: int) -> str:
    return f"{recovery_id}:{seq}"


class RecoveryStore:
    def __init__(self, mongo: Mongo) -> None:
        self._actions = mongo.collection(Collection.RECOVERY_ACTIONS)

    # -- the record ---------------------------------------------------------------------

    async def record(self, recovery_id: str) -> Document | None:
        try:
            return await self._actions.find_one({"_id": recovery_id, "seq": RECORD_SEQ})
        except PyMongoError as exc:
            raise unavailable(exc) from exc

    async def update_record(self, recovery_id: str, fields: Mapping[str, Any]) -> None:
        try:
            await self._actions.update_one(
                {"_id": recovery_id, "seq": RECORD_SEQ}, {"$set": dict(fields)}
            )
        except PyMongoError as exc:
            raise unavailable(exc) from exc

    # -- the plan -----------------------------------------------------------------------

    async def save_plan(
        self,
        recovery_id: str,
        tenant_id: str,
        record: Mapping[str, Any],
        actions: Sequence[Mapping[str, Any]],
    ) -> None:
        """Store a plan: every action, then the record that says how many there are.

        Used only before the first write, so replacing a previous plan is safe: a
        recovery that died while planning plans again from scratch."""
        documents: list[Document] = [
            {
                **dict(action),
                "_id": action_key(recovery_id, seq),
                "recovery": recovery_id,
                "seq": seq,
                "kind": ACTION_KIND,
                "tenantId": tenant_id,
                "newAppId": None,
                "attemptedAt": None,
                "finishedAt": None,
            }
            for seq, action in enumerate(actions, start=1)
        ]
        head: Document = {
            **dict(record),
            "_id": recovery_id,
            "recovery": recovery_id,
            "seq": RECORD_SEQ,
            "kind": RECORD_KIND,
            "tenantId": tenant_id,
            "actionCount": len(documents),
        }
        try:
            for start in range(0, len(documents), 500):
                batch = documents[start : start + 500]
                await self._actions.bulk_write(
                    [ReplaceOne({"_id": d["_id"]}, d, upsert=True) for d in batch], ordered=False
                )
            await self._actions.replace_one({"_id": recovery_id}, head, upsert=True)
        except PyMongoError as exc:
            raise unavailable(exc) from exc

    async def actions(
        self, recovery_id: str, *, fields: Sequence[str] | None = None
    ) -> list[Document]:
        """Every action of the stored plan, in plan order; only ``fields`` of each when
        given (an overview needs the outcomes, not the bodies written)."""
        record = await self.record(recovery_id)
        if record is None:
            return []
        query = {"recovery": recovery_id, "seq": {"$gte": 1, "$lte": int(record["actionCount"])}}
        projection = dict.fromkeys(fields, 1) if fields is not None else None
        try:
            return await self._actions.find(query, projection).sort("seq", 1).to_list()
        except PyMongoError as exc:
            raise unavailable(exc) from exc

    async def page_actions(
        self,
        recovery_id: str,
        *,
        outcome: str | None = None,
        cursor: str | None = None,
        limit: int = 50,
    ) -> tuple[list[Document], str | None]:
        """Actions in plan order, ``limit`` at a time, optionally of one outcome."""
        record = await self.record(recovery_id)
        if record is None:
            return [], None
        after = int(decode_cursor(cursor).get("seq", 0)) if cursor else 0
        query: Document = {
            "recovery": recovery_id,
            "seq": {"$gt": max(after, 0), "$lte": int(record["actionCount"])},
        }
        if outcome is not None:
            query["outcome"] = outcome
        try:
            documents = await self._actions.find(query).sort("seq", 1).limit(limit + 1).to_list()
        except PyMongoError as exc:
            raise unavailable(exc) from exc
        shown = documents[:limit]
        following = encode_cursor({"seq": shown[-1]["seq"]}) if len(documents) > limit else None
        return shown, following

    # -- execution ----------------------------------------------------------------------

    async def mark_attempted(self, recovery_id: str, seqs: Iterable[int], at: datetime) -> None:
        """Note that the actions' first write is about to be sent: a resumed recovery
        checks these against the live tenant before sending anything again."""
        keys = [action_key(recovery_id, seq) for seq in seqs]
        if not keys:
            return
        try:
            await self._actions.update_many(
                {"_id": {"$in": keys}, "attemptedAt": None}, {"$set": {"attemptedAt": at}}
            )
        except PyMongoError as exc:
            raise unavailable(exc) from exc

    async def record_created(
        self, recovery_id: str, seq: int, new_id: str, new_app_id: str | None
    ) -> None:
        """Store a re-created object's new id (and appId) before anything else is sent."""
        fields: Document = {"newObjectId": new_id}
        if new_app_id is not None:
            fields["newAppId"] = new_app_id
        try:
            await self._actions.update_one({"_id": action_key(recovery_id, seq)}, {"$set": fields})
        except PyMongoError as exc:
            raise unavailable(exc) from exc

    async def record_outcomes(
        self, recovery_id: str, outcomes: Sequence[tuple[int, Mapping[str, Any]]]
    ) -> None:
        """Store final outcomes: ``(seq, {outcome, error, before, after, ...})``."""
        if not outcomes:
            return
        try:
            for seq, fields in outcomes:
                await self._actions.update_one(
                    {"_id": action_key(recovery_id, seq)}, {"$set": dict(fields)}
                )
        except PyMongoError as exc:
            raise unavailable(exc) from exc

    async def id_map(self, recovery_id: str) -> IdMap:
        """Old → new ids (and appIds) of every object this recovery re-created so far."""
        query = {"recovery": recovery_id, "seq": {"$gte": 1}, "newObjectId": {"$ne": None}}
        projection = {"objectId": 1, "newObjectId": 1, "oldAppId": 1, "newAppId": 1}
        try:
            documents = await self._actions.find(query, projection).to_list()
        except PyMongoError as exc:
            raise unavailable(exc) from exc
        return id_map_of(documents)

    async def lineage(self, tenant_id: str) -> dict[str, str]:
        """Old → new ids (and appIds) of every object any recovery of the tenant
        re-created, chains followed to the newest id: a later recovery from an older
        backup must find them under the ids they have now, not re-create them again."""
        query = {"tenantId": tenant_id, "seq": {"$gte": 1}, "newObjectId": {"$ne": None}}
        projection = {"objectId": 1, "newObjectId": 1, "oldAppId": 1, "newAppId": 1}
        try:
            documents = await self._actions.find(query, projection).to_list()
        except PyMongoError as exc:
            raise unavailable(exc) from exc
        return follow(id_map_of(documents).to_dict())

    async def outcome_counts(self, recovery_id: str) -> dict[str, int]:
        counts = dict.fromkeys(OUTCOMES, 0)
        for document in await self.actions(recovery_id):
            outcome = str(document.get("outcome", "pending"))
            counts[outcome] = counts.get(outcome, 0) + 1
        return counts


def id_map_of(documents: Iterable[Mapping[str, Any]]) -> IdMap:
    entries: dict[str, str] = {}
    for document in documents:
        new_id = document.get("newObjectId")
        if new_id:
            entries[str(document["objectId"])] = str(new_id)
        old_app, new_app = document.get("oldAppId"), document.get("newAppId")
        if old_app and new_app:
            entries[str(old_app)] = str(new_app)
    return IdMap.from_dict(entries)


def follow(mapping: Mapping[str, str]) -> dict[str, str]:
    """Each old id mapped to the end of its chain (a re-created object re-created again)."""
    out: dict[str, str] = {}
    for old in mapping:
        seen = {old}
        new = mapping[old]
        while new in mapping and new not in seen:
            seen.add(new)
            new = mapping[new]
        out[old] = new
    return out


def action_view(document: Mapping[str, Any]) -> dict[str, Any]:
    """An action as the API shows it."""
    return {name: value for name, value in document.items() if name not in _HIDDEN}


#: What ``summary_of`` and ``id_map_of`` read of each action.
SUMMARY_FIELDS = (
    "type", "action", "outcome", "objectId", "newObjectId", "oldAppId", "newAppId",
)  # fmt: skip


def summary_of(documents: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """Counts per type and action, per outcome, and per type, action and outcome."""
    by_type: dict[str, dict[str, int]] = {}
    outcomes = dict.fromkeys(OUTCOMES, 0)
    detail: dict[str, dict[str, dict[str, int]]] = {}
    for document in documents:
        type_name, action = str(document["type"]), str(document["action"])
        outcome = str(document.get("outcome", "pending"))
        per_type = by_type.setdefault(type_name, {})
        per_type[action] = per_type.get(action, 0) + 1
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
        cell = detail.setdefault(type_name, {}).setdefault(action, {})
        cell[outcome] = cell.get(outcome, 0) + 1
    return {"types": by_type, "outcomes": outcomes, "detail": detail}


__all__ = [
    "ACTION_KIND",
    "OUTCOMES",
    "RECORD_KIND",
    "RECORD_SEQ",
    "SUMMARY_FIELDS",
    "RecoveryStore",
    "action_key",
    "action_view",
    "follow",
    "id_map_of",
    "summary_of",
]
