-- Campaign segments (issue 6): the frozen selection of a campaign (a projection of
-- segment_frozen) and its members, written before the event that names their hash.
CREATE TABLE segments (
    tenant_id   TEXT   NOT NULL,
    id          TEXT   NOT NULL,
    name        TEXT   NOT NULL,
    spec        TEXT   NOT NULL,
    counts      TEXT   NOT NULL,
    frozen_at   BIGINT NOT NULL,
    valid_until BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
CREATE TABLE segment_members (
    tenant_id        TEXT   NOT NULL,
    segment_id       TEXT   NOT NULL,
    seq              BIGINT NOT NULL,
    person_id        TEXT   NOT NULL,
    contact_point_id TEXT   NOT NULL,
    included         BIGINT NOT NULL,
    reasons          TEXT   NOT NULL,
    consents         TEXT   NOT NULL,
    PRIMARY KEY (tenant_id, segment_id, seq)
);
-- Robinson lists (R31) as the providers deliver them: SHA-256 of the normalised address or
-- number, never the clear value.
CREATE TABLE robinson_lists (
    tenant_id   TEXT   NOT NULL,
    list        TEXT   NOT NULL,
    entries     BIGINT NOT NULL,
    imported_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, list)
);
CREATE TABLE robinson_entries (
    tenant_id TEXT NOT NULL,
    list      TEXT NOT NULL,
    hash      TEXT NOT NULL,
    PRIMARY KEY (tenant_id, list, hash)
);
