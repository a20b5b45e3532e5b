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
    sealed       BYTEA  NOT NULL,
    created_at   BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, person_id, sha256)
);

-- Projection of tenant_settings_changed.
CREATE TABLE tenant_settings (
    tenant_id  TEXT   PRIMARY KEY,
    settings   TEXT   NOT NULL,
    updated_at BIGINT NOT NULL
);

-- What a confirmation link confirms: the e-mail address (double opt-in, R13) or, after a call,
-- the verbal consent in text form (R17 b).
ALTER TABLE doi_tokens ADD COLUMN purpose TEXT NOT NULL DEFAULT 'doi';

-- Projection of erasures (Art. 17): a person whose proof must still be kept is `restricted`
-- until `until`; once the key is destroyed the person is `erased`.
CREATE TABLE restrictions (
    tenant_id  TEXT   NOT NULL,
    person_id  TEXT   NOT NULL,
    state      TEXT   NOT NULL,
    until      BIGINT,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, person_id)
);
CREATE INDEX restrictions_due ON restrictions (tenant_id, state, until);

-- Projection of legal holds (R61).
CREATE TABLE holds (
    tenant_id   TEXT   NOT NULL,
    id          TEXT   NOT NULL,
    person_id   TEXT   NOT NULL,
    data        TEXT   NOT NULL,
    released_at BIGINT,
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX holds_person ON holds (tenant_id, person_id);

-- Data-subject requests (access, erasure, …) with their one-month deadline (Art. 12(3)).
CREATE TABLE requests (
    tenant_id   TEXT   NOT NULL,
    id          TEXT   NOT NULL,
    person_id   TEXT   NOT NULL,
    kind        TEXT   NOT NULL,
    via         TEXT   NOT NULL,
    received_at BIGINT NOT NULL,
    due_at      BIGINT NOT NULL,
    closed_at   BIGINT,
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX requests_open ON requests (tenant_id, closed_at, due_at);
