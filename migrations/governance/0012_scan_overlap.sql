-- A scan re-reads a trailing overlap of the log (issue 17, item 7): rows committed late
-- with an id below the checkpoint, and windows that straddle two scans, are judged whole.
-- gaps lists the ids missing below the checkpoint when the scan read past them (a
-- transaction still open then): the next scan counts those rows as new when they appear.
ALTER TABLE warden_log_checkpoints
    ADD COLUMN gaps MEDIUMTEXT NULL;
