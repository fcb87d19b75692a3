-- Remediation touches exactly the reviewed row (issue 21, item 3).
--
-- key_columns: the grant table's columns that identify one grant, as a JSON array (its
-- primary key; with none, every mapped and filter column when a unique key lies among
-- them), recorded by `warden migrate`. NULL: the table has no such key, and the routines
-- refuse to remove from it (reading still works).
-- no_key: why no key names one grant, when none does (for the officer's message).
-- row_filter: the mapping's `user_roles.where`, as JSON (column -> list of values): the
-- routines touch no row outside it.
ALTER TABLE warden_grant_target
    ADD COLUMN key_columns TEXT NULL,
    ADD COLUMN no_key      VARCHAR(1000) NULL,
    ADD COLUMN row_filter  TEXT NULL;

-- The reviewed grant row's key (JSON: column -> value), captured at launch from the row
-- itself: close removes the row with exactly that key, and undo puts that row back.
-- NULL for items launched before keys were kept.
ALTER TABLE warden_review_items
    ADD COLUMN grant_key TEXT NULL;
