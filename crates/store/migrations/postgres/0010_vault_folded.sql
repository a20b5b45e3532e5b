-- The vault folded into the rows it belongs to: a person's wrapped data key and the current
-- sealed version of their data move into `persons`, a contact point's sealed value into
-- `contact_points`. An import writes one row per person and per contact point instead of four
-- rows in five B-trees. `person_data` keeps the versions a correction replaced (the history);
-- `person_keys` and `contact_values` go. Erasure sets the columns to NULL; a person without
-- `wrapped_key` is crypto-shredded. `konsent rebuild` keeps these columns (the ledger does not
-- hold them).
ALTER TABLE persons ADD COLUMN wrapped_key BYTEA;
ALTER TABLE persons ADD COLUMN key_fp TEXT;
ALTER TABLE persons ADD COLUMN key_created_at BIGINT;
ALTER TABLE persons ADD COLUMN sealed_version BIGINT;
ALTER TABLE persons ADD COLUMN sealed BYTEA;
ALTER TABLE persons ADD COLUMN sealed_sha256 TEXT;
ALTER TABLE persons ADD COLUMN sealed_at BIGINT;
ALTER TABLE contact_points ADD COLUMN sealed BYTEA;
ALTER TABLE contact_points ADD COLUMN sealed_sha256 TEXT;

-- Every vault row must have the row it moves into; otherwise the migration fails here (a CHECK
-- violation on m10_orphans) and changes nothing.
CREATE TEMP TABLE m10_orphans (what TEXT NOT NULL, n BIGINT NOT NULL,
    CONSTRAINT every_vault_row_has_its_person_or_contact_point CHECK (n = 0));
INSERT INTO m10_orphans SELECT 'person_keys without a person', count(*) FROM person_keys k
    WHERE NOT EXISTS (SELECT 1 FROM persons p WHERE p.tenant_id = k.tenant_id AND p.id = k.person_id);
INSERT INTO m10_orphans SELECT 'person_data without a person', count(*) FROM person_data d
    WHERE NOT EXISTS (SELECT 1 FROM persons p WHERE p.tenant_id = d.tenant_id AND p.id = d.person_id);
INSERT INTO m10_orphans SELECT 'contact_values without a contact point', count(*) FROM contact_values v
    WHERE NOT EXISTS (SELECT 1 FROM contact_points c WHERE c.tenant_id = v.tenant_id AND c.id = v.contact_point_id
                      AND c.person_id = v.person_id);
DROP TABLE m10_orphans;

UPDATE persons SET wrapped_key = k.wrapped_key, key_fp = k.key_fp, key_created_at = k.created_at
    FROM person_keys k WHERE k.tenant_id = persons.tenant_id AND k.person_id = persons.id;
UPDATE persons SET sealed_version = d.version, sealed = d.sealed, sealed_sha256 = d.sha256, sealed_at = d.created_at
    FROM person_data d WHERE d.tenant_id = persons.tenant_id AND d.person_id = persons.id
    AND d.version = (SELECT max(m.version) FROM person_data m WHERE m.tenant_id = d.tenant_id AND m.person_id = d.person_id);
DELETE FROM person_data WHERE EXISTS (SELECT 1 FROM persons p WHERE p.tenant_id = person_data.tenant_id
    AND p.id = person_data.person_id AND p.sealed_version = person_data.version);
UPDATE contact_points SET sealed = v.sealed, sealed_sha256 = v.sha256
    FROM contact_values v WHERE v.tenant_id = contact_points.tenant_id AND v.contact_point_id = contact_points.id;
DROP TABLE person_keys;
DROP TABLE contact_values;
