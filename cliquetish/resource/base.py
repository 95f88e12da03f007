"""The Resource: the HTTP side of a collection of records.

One instance is made per request by the views of :mod:`cliquetish.resource.viewset`; its
methods ``collection_get`` (also HEAD), ``collection_post``, ``collection_delete`` and, from
:class:`~cliquetish.resource.records.RecordViews`, ``get``, ``put``, ``patch`` and ``delete``
answer the protocol of ``docs/protocol.rst``. Subclasses
override the hooks :meth:`Resource.get_parent_id`, :meth:`Resource.process_record` and
:meth:`Resource.is_known_field`, and the authorization hooks that
:class:`~cliquetish.resource.access.ShareableResource` fills in.
"""

from __future__ import annotations

from typing import Any

from cliquetish.errors import ERRORS, http_error
from cliquetish.events import ACTIONS, Impacted, listening, notify_resource_event
from cliquetish.resource.http import (
    check_accept,
    check_content_type,
    check_preconditions,
    invalid,
    invalid_details,
    json_response,
    read_json_body,
)
from cliquetish.resource.listing import (
    Page,
    listing_query,
    next_page_url,
    page_keyset,
    project,
    remembered_query,
    token_scope,
)
from cliquetish.resource.model import IdGenerator, Model, UUID4Generator
from cliquetish.resource.patch import (
    JSON,
)
from cliquetish.resource.querystring import ListingQuery, quoted
from cliquetish.resource.records import RecordViews
from cliquetish.resource.schema import (
    InvalidBody,
    ResourceSchema,
    check_body,
    check_permissions,
)
from cliquetish.resource.viewset import ResourceSetup
from cliquetish.storage import (
    ReadFilter,
    Record,
    UnicityError,
)

__all__ = ["Resource"]

ID_FIELD = "id"
MODIFIED_FIELD = "last_modified"
def _deleted(old: list[Record], tombstones: list[Record]) -> list[dict[str, Any]]:
    """``{"old": record}`` of each deleted record (its tombstone when it was not read)."""
    by_id = {record[ID_FIELD]: record for record in old}
    return [{"old": by_id.get(t[ID_FIELD], t)} for t in tombstones]


class Resource(RecordViews):
    """A collection of records with the full CRUDL protocol. Open to everyone; see
    :class:`~cliquetish.resource.access.UserResource` and
    :class:`~cliquetish.resource.access.ShareableResource` for the usual access rules."""

    schema: type[ResourceSchema] | None = None
    """The record schema (None: schemaless, every field kept)."""

    default_sort: tuple[str, ...] = ("-last_modified",)
    """Sort of listings without ``_sort`` (``-`` for descending)."""

    id_generator: IdGenerator = UUID4Generator()
    """Makes new ids and validates ids in URLs and bodies."""

    permission_names: tuple[str, ...] = ()
    """Permissions a body may set on a record (empty: bodies have no ``permissions``)."""

    def __init__(self, request: Any, setup: ResourceSetup) -> None:
        self.request = request
        self.setup = setup
        self.name = setup.name
        check_accept(request)
        self.parent_id = self.get_parent_id(request)
        self.model = Model(
            request.storage, setup.name, self.parent_id, permission=request.permission,
            object_uri_prefix=setup.object_uri_prefix,
            unique_fields=setup.schema.unique_fields,
            record_permissions=bool(self.permission_names),
        )

    # Hooks
    def get_parent_id(self, request: Any) -> str:
        """The parent under which records are stored (``""``: shared by everyone)."""
        return ""

    def process_record(self, new: Record, old: Record | None = None) -> Record:
        """Change a record about to be stored (``old`` is None on creation). Returns it."""
        return new

    def is_known_field(self, name: str) -> bool:
        """True when ``name`` (dotted allowed) may be filtered, sorted or selected."""
        return self.setup.schema.is_known_field(name)

    # Authorization hooks (everything allowed here)
    def collection_read_filter(self, permission: str) -> ReadFilter | None:
        """Check the right to list (``read``) or delete (``write``) the collection; return a
        filter limiting the records concerned (None: all of the parent's)."""
        return None

    def authorize_create(self) -> None:
        """Raise 401/403 unless the request may create records."""

    def authorize_record(self, permission: str, object_id: str) -> dict[str, list[str]] | None:
        """Raise 401/403 unless the request has ``permission`` on the record; return the
        record's permissions when the request may see them (writers), else None."""
        return None

    def can_read(self, object_id: str) -> bool:
        """True when the request may read the record (used to show it in 409 answers)."""
        return True

    def store_permissions(self, object_id: str, requested: dict[str, list[str]] | None,
                          current: dict[str, list[str]] | None) -> dict[str, list[str]] | None:
        """Save the record's permissions after a write; return them to show (or None).

        :param requested: the checked permissions of the body (None: none sent).
        :param current: the record's permissions before the write (None on creation).
        """
        return None

    # Helpers
    @property
    def user_id(self) -> str | None:
        """The prefixed user id of the request (None when anonymous)."""
        return getattr(self.request, "prefixed_userid", None)

    def _respond(self, body: Any, status: int = 200, timestamp: int | None = None) -> Any:
        expires = self.setup.cache_expires_seconds
        cacheable = expires is not None and self.user_id is None and self.request.method in (
            "GET", "HEAD")
        return json_response(self.request, body, status, timestamp,
                             expires if cacheable else None)

    def _object_id(self) -> str:
        object_id = self.request.matchdict["id"]
        if not self.setup.id_generator.match(object_id):
            raise invalid("path", "id", f"Invalid record id {quoted(str(object_id))}")
        return object_id

    def _existing(self, object_id: str, permission: str) -> tuple[Record | None, Any]:
        """The live record (or None) and the permissions shown, after checking ``permission``
        (``create`` means ``write`` when the record exists)."""
        record = self.model.get_record(object_id)
        if permission == "create":
            if record is None:
                self.authorize_create()
                return None, None
            permission = "write"
        return record, self.authorize_record(permission, object_id)

    def _notify(self, action: ACTIONS, impacted: Impacted, timestamp: int,
                record_id: str | None = None) -> None:
        notify_resource_event(self.request, self.name, self.parent_id, action, impacted,
                              timestamp, self.setup.collection_uri, record_id)

    def _json_body(self, allowed_types: tuple[str, ...] = (JSON,)) -> tuple[str, Any]:
        media_type = check_content_type(self.request, allowed_types)
        return media_type, read_json_body(self.request)

    def _checked_data(self, data: Any, old: Record | None, replacing: bool = False) -> Record:
        """``data`` validated by the schema, readonly fields unchanged, then processed.

        ``replacing`` (PUT): a readonly field the body leaves out keeps its value; otherwise
        (PATCH) a readonly field missing from the result was removed, which is refused.
        """
        try:
            new = self.setup.schema.check_data(data)
        except InvalidBody as error:
            raise invalid_details(error.details) from error
        if old is not None:
            for field in self.setup.schema.readonly_fields:
                if replacing and field in old and field not in data:
                    new[field] = old[field]
                elif new.get(field) != old.get(field):
                    raise invalid("body", f"data.{field}", "Cannot be changed (read-only)")
        return self.process_record(new, old)

    def _unicity_error(self, error: UnicityError) -> Any:
        existing = error.record
        details: dict[str, Any] = {"field": error.field}
        if existing.get(ID_FIELD) and self.can_read(existing[ID_FIELD]):
            details["existing"] = existing
        message = f"Another record has the same value of field {error.field}"
        return http_error(409, ERRORS.CONSTRAINT_VIOLATED, message, details)

    def _record_body(self, record: Record, permissions: dict[str, list[str]] | None
                     ) -> dict[str, Any]:
        body: dict[str, Any] = {"data": record}
        if permissions is not None:
            body["permissions"] = permissions
        return body

    # Collection endpoint
    def _listing_query(self) -> ListingQuery:
        """The listing's parameters, parsed once per querystring when :meth:`is_known_field`
        is the schema's (a subclass's own check may depend on more than the name)."""
        setup = self.setup
        request = self.request
        if type(self).is_known_field is not Resource.is_known_field:
            return listing_query(request.GET.items(), self.is_known_field, setup.default_sort,
                                 setup.page_size)
        return remembered_query(setup.listing_queries, request.environ.get("QUERY_STRING", ""),
                                lambda: request.GET.items(), self.is_known_field,
                                setup.default_sort, setup.page_size)

    def collection_get(self) -> Any:
        """List records (GET) or count them (HEAD, ``Total-Records``)."""
        read_filter = self.collection_read_filter("read")
        setup = self.setup
        query = self._listing_query()
        scope = token_scope(self.name, self.parent_id, self.user_id, query.scope)
        environ = self.request.environ
        if self.request.method == "GET" and not (
            "HTTP_IF_MATCH" in environ or "HTTP_IF_NONE_MATCH" in environ
        ):  # the usual listing: the page and the timestamp in one read
            keyset = page_keyset(setup.token_secret, scope, query)
            fetched, timestamp = self.model.get_records_and_timestamp(
                query.filters, query.sorting, keyset, query.limit + 1, query.include_deleted,
                read_filter)
            return self._listing_response(fetched, query, scope, timestamp)
        timestamp = self.model.timestamp()
        check_preconditions(self.request, timestamp)
        keyset = page_keyset(setup.token_secret, scope, query)
        if self.request.method == "HEAD":
            _, total = self.model.get_records(query.filters, query.sorting, None, 0,
                                              query.include_deleted, read_filter, count=True)
            response = self._respond(None, timestamp=timestamp)
            response.headers["Total-Records"] = str(total or 0)
            return response
        fetched, _ = self.model.get_records(query.filters, query.sorting, keyset,
                                            query.limit + 1, query.include_deleted, read_filter)
        return self._listing_response(fetched, query, scope, timestamp)

    def _listing_response(self, fetched: list[Record], query: Any, scope: str, timestamp: int
                          ) -> Any:
        setup = self.setup
        page = Page(fetched, query, setup.token_secret, scope)
        self._notify(ACTIONS.READ, lambda: [{"new": r} for r in page.records], timestamp)
        fields = query.fields
        data = page.records if fields is None else [project(r, fields) for r in page.records]
        response = self._respond({"data": data}, timestamp=timestamp)
        if page.next_token:
            response.headers["Next-Page"] = next_page_url(self.request, page.next_token)
        return response

    def collection_post(self) -> Any:
        """Create a record (201), or answer the existing one of ``data.id`` (200)."""
        self.authorize_create()
        _, body = self._json_body()
        body = self._checked_body(body)
        data = body.get("data", {})
        object_id = data.get(ID_FIELD) if isinstance(data, dict) else None
        if object_id is not None:
            if not isinstance(object_id, str) or not self.setup.id_generator.match(object_id):
                raise invalid("body", "data.id", f"Invalid record id {quoted(str(object_id))}")
            existing = self.model.get_record(object_id)
            if existing is not None:
                shown = self.authorize_record("read", object_id)
                check_preconditions(self.request, existing[MODIFIED_FIELD], existing)
                return self._respond(self._record_body(existing, shown),
                                     timestamp=existing[MODIFIED_FIELD])
        if "If-Match" in self.request.headers:
            check_preconditions(self.request, self.model.timestamp())
        new = self._checked_data(data, None)
        new[ID_FIELD] = object_id or self.setup.id_generator()
        return self._create(new, body.get("permissions"))

    def _checked_body(self, body: Any) -> dict[str, Any]:
        try:
            checked = dict(check_body(body, bool(self.permission_names)))
            if "permissions" in checked:
                checked["permissions"] = check_permissions(checked["permissions"],
                                                           self.permission_names)
        except InvalidBody as error:
            raise invalid_details(error.details) from error
        return checked

    def _create(self, new: Record, requested: Any) -> Any:
        try:
            record = self.model.create_record(new)
        except UnicityError as error:
            raise self._unicity_error(error) from error
        shown = self.store_permissions(record[ID_FIELD], requested, None)
        self._notify(ACTIONS.CREATE, [{"new": record}], record[MODIFIED_FIELD],
                     record[ID_FIELD])
        return self._respond(self._record_body(record, shown), 201, record[MODIFIED_FIELD])

    def collection_delete(self) -> Any:
        """Delete the matching records; answer their tombstones."""
        read_filter = self.collection_read_filter("write")
        query = self._listing_query()
        if query.token is not None:
            raise invalid("querystring", "_token", "Not supported when deleting")
        if "If-Match" in self.request.headers or "If-None-Match" in self.request.headers:
            check_preconditions(self.request, self.model.timestamp())
        old = None
        if listening(self.request.registry, ACTIONS.DELETE):
            old, _ = self.model.get_records(query.filters, query.sorting, None, query.limit,
                                            read_filter=read_filter)
        tombstones = self.model.delete_records(query.filters, query.sorting, query.limit,
                                               read_filter)
        if tombstones:
            timestamp = max(t[MODIFIED_FIELD] for t in tombstones)
            self._notify(ACTIONS.DELETE, _deleted(old or [], tombstones), timestamp)
        else:
            timestamp = self.model.timestamp()
        data = [project(t, query.fields) for t in tombstones]
        response = self._respond({"data": data}, timestamp=timestamp)
        if len(tombstones) == query.limit:
            response.headers["Next-Page"] = self.request.url
        return response
