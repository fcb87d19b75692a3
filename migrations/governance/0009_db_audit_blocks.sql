-- Imported audit-log events are kept in blocks of up to 1,024 events of one file, one row
-- per block, instead of one row per event: the server stores about 170,000 rows a second
-- of an event's shape even by LOAD DATA, its fastest path, and an import must keep up
-- with 300,000 lines a second (issue 6). An event is still known by its file, line and
-- the SHA-256 of its raw text, all inside its block; its id is `block id * 1024 + its
-- place in the block`, in line order.
--
-- `body` is a JSON array of events, each `[line, "YYYY-MM-DD HH:MM:SS.ffffff", user,
-- host, connection id, query id, operation, database, object, status, "sha-256 hex"]`:
-- LZ4-compressed with its length prepended when `codec` is 'lz4' (what Warden writes),
-- plain when 'json' (what this migration converts the events already imported into).

CREATE TABLE warden_db_audit_blocks (
    id          BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
    file_id     BIGINT UNSIGNED NOT NULL,
    first_line  BIGINT UNSIGNED NOT NULL,
    last_line   BIGINT UNSIGNED NOT NULL,
    first_at    DATETIME(6)     NOT NULL,
    last_at     DATETIME(6)     NOT NULL,
    events      INT UNSIGNED    NOT NULL,
    codec       VARCHAR(8)      NOT NULL,
    body        LONGBLOB        NOT NULL,
    KEY warden_db_audit_blocks_file (file_id, first_line)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

INSERT INTO warden_db_audit_blocks
    (file_id, first_line, last_line, first_at, last_at, events, codec, body)
SELECT file_id, MIN(line), MAX(line), MIN(occurred_at), MAX(occurred_at), COUNT(*), 'json',
       CAST(JSON_ARRAYAGG(JSON_ARRAY(
           line, DATE_FORMAT(occurred_at, '%Y-%m-%d %H:%i:%s.%f'), db_user, client_host,
           connection_id, query_id, operation, db_name, object, status, LOWER(HEX(hash))
       )) AS CHAR CHARACTER SET utf8mb4)
FROM warden_db_audit_events
GROUP BY file_id, (line - 1) DIV 1024
ORDER BY file_id, MIN(line);

DROP TABLE warden_db_audit_events;
