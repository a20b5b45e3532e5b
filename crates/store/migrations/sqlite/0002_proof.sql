-- Checkpoints seal a range of entries and sign its Merkle root, so one entry can be proven
-- without the rest of the chain (proof packages). Rows from before keep from_seq 0 and no root.
ALTER TABLE checkpoints ADD COLUMN from_seq BIGINT NOT NULL DEFAULT 0;
ALTER TABLE checkpoints ADD COLUMN merkle_root TEXT NOT NULL DEFAULT '';

-- Evidence files (recordings, scans): content-addressed by the SHA-256 of the plain bytes,
-- sealed under the person's data key, in the database so every instance on one PostgreSQL
-- sees them and a backup holds them.
CREATE TABLE attachments (
    tenant_id    TEXT   NOT NULL,
    person_id    TEXT   NOT NULL,
    sha256       TEXT   NOT NULL,
    kind         TEXT   NOT NULL,
    content_type TEXT   NOT NULL,
    size         BIGINT NOT NULL,
    sealed       BLOB   NOT NULL,
    created_at   BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, person_id, sha256)
);

-- Projection of tenant_settings_changed.
CREATE TABLE tenant_settings (
    tenant_id  TEXT   PRIMARY KEY,
    settings   TEXT   NOT NULL,
    updated_at BIGINT NOT NULL
);
