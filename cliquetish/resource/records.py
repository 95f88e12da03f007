"""The record endpoint of a resource: GET, PUT, PATCH and DELETE on ``/<plural>/<id>``.

:class:`RecordViews` is a mixin of :class:`~cliquetish.resource.base.Resource`; its methods use
the resource's hooks and helpers (``_existing``, ``_checked_data``, ``_respond``...).
"""

from __future__ import annotations

import random
import time
from typing import Any

from cliquetish.events import ACTIONS
from cliquetish.resource.http import (
    check_preconditions,
    invalid,
    invalid_details,
    not_found,
    precondition_failed,
)
from cliquetish.resource.listing import project, record_fields
from cliquetish.resource.patch import (
    PATCH_TYPES,
    apply_patch,
    response_behavior,
    shape_response,
)
from cliquetish.resource.schema import InvalidBody, check_permissions
from cliquetish.storage import ModifiedMeanwhileError, Record, RecordNotFoundError, UnicityError

__all__ = ["RecordViews"]

ID_FIELD = "id"
MODIFIED_FIELD = "last_modified"

PATCH_ATTEMPTS = 30
"""Times a PATCH without ``If-Match`` is applied again when the record changes meanwhile
(each lost attempt means another write succeeded; a short random pause spreads retries)."""
RETRY_PAUSE_SECONDS = 0.002


def _modified_meanwhile(error: ModifiedMeanwhileError) -> Any:
    current = error.record
    return precondition_failed(current[MODIFIED_FIELD] if current else None, current)


class RecordViews:
    """GET, PUT, PATCH and DELETE of one record (mixed into ``Resource``)."""

    def get(self) -> Any:
        """Answer one record (404 errno 110 when missing)."""
        object_id = self._object_id()
        request = self.request
        fields = (record_fields(request.GET, self.is_known_field)
                  if request.environ.get("QUERY_STRING") else None)
        record, shown = self._existing(object_id, "read")
        if record is None:
            raise not_found()
        timestamp = record[MODIFIED_FIELD]
        check_preconditions(self.request, timestamp, record)
        self._notify(ACTIONS.READ, [{"new": record}], timestamp, object_id)
        return self._respond(self._record_body(project(record, fields), shown),
                             timestamp=timestamp)

    def put(self) -> Any:
        """Replace a record (200) or create it with this id (201)."""
        object_id = self._object_id()
        existing, shown = self._existing(object_id, "create")
        _, body = self._json_body()
        body = self._checked_body(body)
        current = existing[MODIFIED_FIELD] if existing else None
        check_preconditions(self.request, current, existing)
        data = body.get("data", {})
        if isinstance(data, dict) and data.get(ID_FIELD, object_id) != object_id:
            raise invalid("body", "data.id", "Does not match the id of the URL")
        new = self._checked_data(data, existing, replacing=True)
        new[ID_FIELD] = object_id
        if existing is None:
            return self._create(new, body.get("permissions"))
        record = self._update(object_id, new, current, self._conditional())
        shown = self.store_permissions(object_id, body.get("permissions"), shown)
        self._notify(ACTIONS.UPDATE, [{"new": record, "old": existing}],
                     record[MODIFIED_FIELD], object_id)
        return self._respond(self._record_body(record, shown), timestamp=record[MODIFIED_FIELD])

    def _conditional(self) -> bool:
        return "If-Match" in self.request.headers

    def _update(self, object_id: str, new: Record, current: int | None, conditional: bool
                ) -> Record:
        """Store ``new``; when ``conditional``, only if the record still has ``current`` as
        ``last_modified``. :raises ModifiedMeanwhileError: (when conditional)"""
        if new.get(MODIFIED_FIELD) == current:
            new = {key: value for key, value in new.items() if key != MODIFIED_FIELD}
        try:
            return self.model.update_record(object_id, new, current if conditional else None)
        except UnicityError as error:
            raise self._unicity_error(error) from error
        except ModifiedMeanwhileError as error:
            if not self._conditional():
                raise
            raise _modified_meanwhile(error) from error

    def patch(self) -> Any:
        """Change some fields of a record (and its permissions).

        The read-modify-write is a conditional write: with ``If-Match`` a concurrent change
        gives 412; without, the patch is applied again to the new version.
        """
        object_id = self._object_id()
        existing, shown = self._existing(object_id, "write")
        media_type, body = self._json_body(PATCH_TYPES)
        behavior = response_behavior(self.request)
        for attempt in range(PATCH_ATTEMPTS):
            if existing is None:
                raise not_found()
            check_preconditions(self.request, existing[MODIFIED_FIELD], existing)
            result = self._patched(object_id, media_type, body, existing, shown)
            new = self._checked_data(result.data, existing)
            try:
                record = self._update(object_id, new, existing[MODIFIED_FIELD], True)
                break
            except ModifiedMeanwhileError as error:
                existing = error.record
                time.sleep(random.uniform(0, RETRY_PAUSE_SECONDS * (attempt + 1)))
        else:
            raise precondition_failed(existing[MODIFIED_FIELD] if existing else None, existing)
        permissions = self.store_permissions(object_id, result.permissions, shown)
        self._notify(ACTIONS.UPDATE, [{"new": record, "old": existing}],
                     record[MODIFIED_FIELD], object_id)
        data = shape_response(behavior, record, result.sent)
        return self._respond(self._record_body(data, permissions),
                             timestamp=record[MODIFIED_FIELD])

    def _patched(self, object_id: str, media_type: str, body: Any, existing: Record,
                 permissions: dict[str, list[str]] | None) -> Any:
        try:
            result = apply_patch(media_type, body, existing, permissions)
        except InvalidBody as error:
            raise invalid_details(error.details) from error
        if not isinstance(result.data, dict) or result.data.get(ID_FIELD) != object_id:
            raise invalid("body", "data.id", "Cannot be changed")
        if result.permissions is not None:
            try:
                checked = check_permissions(result.permissions, self.permission_names)
            except InvalidBody as error:
                raise invalid_details(error.details) from error
            result.permissions = {name: checked.get(name, []) for name in self.permission_names}
        return result

    def delete(self) -> Any:
        """Delete a record, leaving a tombstone; answer the tombstone."""
        object_id = self._object_id()
        existing, _ = self._existing(object_id, "write")
        if existing is None:
            raise not_found()
        check_preconditions(self.request, existing[MODIFIED_FIELD], existing)
        expected = existing[MODIFIED_FIELD] if self._conditional() else None
        try:
            tombstone = self.model.delete_record(object_id, expected)
        except ModifiedMeanwhileError as error:
            raise _modified_meanwhile(error) from error
        except RecordNotFoundError as error:
            raise not_found() from error
        self._notify(ACTIONS.DELETE, [{"old": existing}], tombstone[MODIFIED_FIELD], object_id)
        return self._respond({"data": tombstone}, timestamp=tombstone[MODIFIED_FIELD])
