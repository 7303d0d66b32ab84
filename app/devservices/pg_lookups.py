"""Indexes that let the local PostgreSQL answer FerretDB's lookups without scanning.

FerretDB v1 turns an equality filter (`{_id: …}`, `{ticket_id: …}`) into the SQL condition
`_jsonb->$1 @> $2` on its table, and indexes only with B-trees, which cannot serve `@>`: every
lookup, by `_id` too, reads the whole table. Two settings of the local cluster fix that for
the fields Tandem looks documents up by:

- a GIN index (`jsonb_path_ops`) on `_jsonb->'<field>'` for each such field, made by an event
  trigger as FerretDB creates each collection's table (and for tables that exist already),
  without GIN's pending list (`fastupdate = off`): the list is read whole by every lookup
  until a vacuum merges it, which costs more than updating the index on each write;
- `plan_cache_mode = force_custom_plan` (in the server's arguments), so each execution of
  FerretDB's cached statements is planned with its field name known, which the index needs.

Measured on 100,000 documents: a read by `_id` 56 → 1.3 ms, by `ticket_id` 56 → 1.1 ms, an
update by `_id` 59 → 1.1 ms; inserts cost the same (1.4 ms one at a time). This is a property
of the local store only: MongoDB uses its own indexes (declared on each document) and needs
none of it.
"""

from __future__ import annotations

# The fields each collection is looked up by with equality, beside `_id`. A collection not
# named here gets `workspace_id`. Low-selectivity fields (a ticket's workspace) are left out
# where the hot paths never look up by them alone: each index costs every write.
LOOKUP_FIELDS: dict[str, tuple[str, ...]] = {
    "tickets": ("contact_id", "number"),
    "messages": ("ticket_id", "dedupe_key", "message_ref"),
    "contacts": ("email_key", "phone_key", "whatsapp_id_key", "external_id_key"),
    "users": ("workspace_id", "email"),
    "memberships": ("workspace_id", "user_id"),
    "workspaces": ("slug",),
    "api_tokens": ("workspace_id", "token_hash"),
    "counters": (),
}
DEFAULT_FIELDS = ("workspace_id",)


def _sql_text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _fields_case() -> str:
    arms = [
        f"WHEN {_sql_text(name)} THEN ARRAY[{', '.join(_sql_text(f) for f in ('_id', *fields))}]"
        for name, fields in LOOKUP_FIELDS.items()
    ]
    default = ", ".join(_sql_text(f) for f in ("_id", *DEFAULT_FIELDS))
    return f"CASE collection {' '.join(arms)} ELSE ARRAY[{default}] END"


def setup_sql() -> str:
    """The functions, the event trigger and the backfill: safe to run at every start."""
    return f"""
CREATE OR REPLACE FUNCTION tandem_lookup_index(target regclass) RETURNS void
LANGUAGE plpgsql AS $fn$
DECLARE
  rel text; nsp text; collection text; field text;
BEGIN
  SELECT c.relname, n.nspname INTO rel, nsp
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = target;
  IF nsp IN ('pg_catalog', 'information_schema') OR NOT EXISTS (
    SELECT 1 FROM pg_attribute WHERE attrelid = target AND attname = '_jsonb'
  ) THEN
    RETURN;
  END IF;
  -- FerretDB names a collection's table <collection>_<8 hex digits>.
  collection := regexp_replace(rel, '_[0-9a-f]{{8}}$', '');
  FOREACH field IN ARRAY {_fields_case()} LOOP
    EXECUTE format(
      'CREATE INDEX IF NOT EXISTS %I ON %I.%I '
      'USING gin ((_jsonb->%L) jsonb_path_ops) WITH (fastupdate = off)',
      left(rel, 40) || '_tdm_' || replace(field, '_', ''), nsp, rel, field
    );
  END LOOP;
END
$fn$;

CREATE OR REPLACE FUNCTION tandem_lookup_indexes_on_create() RETURNS event_trigger
LANGUAGE plpgsql AS $fn$
DECLARE
  made record;
BEGIN
  FOR made IN SELECT objid FROM pg_event_trigger_ddl_commands()
              WHERE command_tag = 'CREATE TABLE' AND object_type = 'table' LOOP
    PERFORM tandem_lookup_index(made.objid::regclass);
  END LOOP;
END
$fn$;

DROP EVENT TRIGGER IF EXISTS tandem_lookup_indexes;
CREATE EVENT TRIGGER tandem_lookup_indexes ON ddl_command_end
  WHEN TAG IN ('CREATE TABLE') EXECUTE FUNCTION tandem_lookup_indexes_on_create();

SELECT count(tandem_lookup_index(c.oid))
  FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = '_jsonb'
 WHERE c.relkind = 'r';
"""
