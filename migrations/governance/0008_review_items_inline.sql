-- The permissions outside the baseline and the SoD rules of an item are short lists; as
-- TEXT, every item written paid the server's large-object handling. As VARCHAR they are
-- stored and written inline (the service cuts a longer list with "…").
ALTER TABLE warden_review_items
    MODIFY outside VARCHAR(2000) NOT NULL,
    MODIFY sod     VARCHAR(1000) NOT NULL;
