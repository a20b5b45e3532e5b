-- Konsent schema v1 (PostgreSQL). Timestamps are BIGINT Unix microseconds (UTC).

CREATE TABLE installation (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

-- The tamper-evident ledger. Append-only: triggers refuse UPDATE and DELETE.
CREATE TABLE ledger (
    tenant_id   TEXT    NOT NULL,
    seq         BIGINT  NOT NULL,
    event_id    TEXT    NOT NULL,
    kind        TEXT    NOT NULL,
    person_id   TEXT,
    recorded_at BIGINT  NOT NULL,
    payload     BYTEA    NOT NULL,
    prev_hash   BYTEA    NOT NULL,
    hash        BYTEA    NOT NULL,
    PRIMARY KEY (tenant_id, seq)
);
CREATE INDEX ledger_person ON ledger (tenant_id, person_id) WHERE person_id IS NOT NULL;
CREATE FUNCTION konsent_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN RAISE EXCEPTION '% is append-only (% refused)', TG_TABLE_NAME, TG_OP; END $$;
CREATE TRIGGER ledger_no_update_delete BEFORE UPDATE OR DELETE ON ledger
    FOR EACH ROW EXECUTE FUNCTION konsent_refuse_change();
CREATE TRIGGER ledger_no_truncate BEFORE TRUNCATE ON ledger
    FOR EACH STATEMENT EXECUTE FUNCTION konsent_refuse_change();

CREATE TABLE chain_heads (
    tenant_id TEXT PRIMARY KEY,
    seq       BIGINT NOT NULL,
    hash      BYTEA   NOT NULL
);

CREATE TABLE checkpoints (
    tenant_id  TEXT   NOT NULL,
    seq        BIGINT NOT NULL,
    head_hash  TEXT   NOT NULL,
    sealed_at  BIGINT NOT NULL,
    signature  TEXT   NOT NULL,
    public_key TEXT   NOT NULL,
    PRIMARY KEY (tenant_id, seq)
);
CREATE TRIGGER checkpoints_no_update_delete BEFORE UPDATE OR DELETE ON checkpoints
    FOR EACH ROW EXECUTE FUNCTION konsent_refuse_change();
CREATE TRIGGER checkpoints_no_truncate BEFORE TRUNCATE ON checkpoints
    FOR EACH STATEMENT EXECUTE FUNCTION konsent_refuse_change();

-- Personal data vault (not projections: sealed per person, erased by destroying the key).
CREATE TABLE person_keys (
    tenant_id   TEXT   NOT NULL,
    person_id   TEXT   NOT NULL,
    wrapped_key BYTEA   NOT NULL,
    key_fp      TEXT   NOT NULL,
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, person_id)
);
CREATE TABLE person_data (
    tenant_id  TEXT   NOT NULL,
    person_id  TEXT   NOT NULL,
    version    BIGINT NOT NULL,
    sealed     BYTEA   NOT NULL,
    sha256     TEXT   NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, person_id, version)
);
CREATE TABLE contact_values (
    tenant_id        TEXT NOT NULL,
    contact_point_id TEXT NOT NULL,
    person_id        TEXT NOT NULL,
    sealed           BYTEA NOT NULL,
    sha256           TEXT NOT NULL,
    PRIMARY KEY (tenant_id, contact_point_id)
);
CREATE INDEX contact_values_person ON contact_values (tenant_id, person_id);

CREATE TABLE api_keys (
    id         TEXT PRIMARY KEY,
    tenant_id  TEXT   NOT NULL,
    role       TEXT   NOT NULL,
    org_unit_id TEXT,
    label      TEXT   NOT NULL,
    key_hash   TEXT   NOT NULL UNIQUE,
    created_at BIGINT NOT NULL,
    revoked_at BIGINT
);

-- Idempotency-Key replay store: a retried POST gets the first answer, never a second write.
CREATE TABLE idempotency_keys (
    tenant_id    TEXT   NOT NULL,
    idem_key     TEXT   NOT NULL,
    request_hash TEXT   NOT NULL,
    status       BIGINT NOT NULL,
    body         BYTEA,
    created_at   BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, idem_key)
);

-- Projections of the ledger (rebuilt by `konsent rebuild`).
CREATE TABLE tenants (
    id         TEXT PRIMARY KEY,
    name       TEXT   NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE TABLE advertisers (
    tenant_id  TEXT NOT NULL,
    id         TEXT NOT NULL,
    legal_name TEXT NOT NULL,
    data       TEXT NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
CREATE TABLE org_units (
    tenant_id TEXT NOT NULL,
    id        TEXT NOT NULL,
    name      TEXT NOT NULL,
    parent_id TEXT,
    PRIMARY KEY (tenant_id, id)
);
CREATE TABLE categories (
    tenant_id TEXT NOT NULL,
    code      TEXT NOT NULL,
    label_de  TEXT NOT NULL,
    label_en  TEXT NOT NULL,
    PRIMARY KEY (tenant_id, code)
);
CREATE TABLE consent_texts (
    tenant_id TEXT   NOT NULL,
    id        TEXT   NOT NULL,
    text_key  TEXT   NOT NULL,
    version   BIGINT NOT NULL,
    language  TEXT   NOT NULL,
    state     TEXT   NOT NULL,
    sha256    TEXT   NOT NULL,
    data      TEXT   NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
CREATE TABLE persons (
    tenant_id       TEXT   NOT NULL,
    id              TEXT   NOT NULL,
    recipient_class TEXT   NOT NULL,
    org_unit_id     TEXT,
    data_hash       TEXT   NOT NULL,
    data_version    BIGINT NOT NULL,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX persons_updated ON persons (tenant_id, updated_at, id);
CREATE TABLE contact_points (
    tenant_id       TEXT   NOT NULL,
    id              TEXT   NOT NULL,
    person_id       TEXT   NOT NULL,
    kind            TEXT   NOT NULL,
    blind_index     TEXT   NOT NULL,
    value_hash      TEXT   NOT NULL,
    verified_at     BIGINT,
    verified_method TEXT,
    created_at      BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX contact_points_blind ON contact_points (tenant_id, blind_index);
CREATE INDEX contact_points_person ON contact_points (tenant_id, person_id);
CREATE TABLE consents (
    tenant_id      TEXT   NOT NULL,
    id             TEXT   NOT NULL,
    person_id      TEXT   NOT NULL,
    status         TEXT   NOT NULL,
    text_id        TEXT   NOT NULL,
    given_at       BIGINT NOT NULL,
    granted_at     BIGINT,
    last_use_at    BIGINT,
    last_change_at BIGINT NOT NULL,
    data           TEXT   NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX consents_person ON consents (tenant_id, person_id);
CREATE INDEX consents_changed ON consents (tenant_id, last_change_at, id);
CREATE TABLE objections (
    tenant_id  TEXT   NOT NULL,
    seq        BIGINT NOT NULL,
    person_id  TEXT   NOT NULL,
    data       TEXT   NOT NULL,
    at         BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, seq)
);
CREATE INDEX objections_person ON objections (tenant_id, person_id);
CREATE TABLE withdrawals (
    tenant_id  TEXT   NOT NULL,
    seq        BIGINT NOT NULL,
    consent_id TEXT   NOT NULL,
    person_id  TEXT   NOT NULL,
    data       TEXT   NOT NULL,
    at         BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, seq)
);
CREATE INDEX withdrawals_person ON withdrawals (tenant_id, person_id);
CREATE TABLE uses (
    tenant_id        TEXT   NOT NULL,
    id               TEXT   NOT NULL,
    person_id        TEXT   NOT NULL,
    contact_point_id TEXT   NOT NULL,
    channel          TEXT   NOT NULL,
    advertiser_id    TEXT   NOT NULL,
    at               BIGINT NOT NULL,
    data             TEXT   NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX uses_person ON uses (tenant_id, person_id);
CREATE TABLE suppressions (
    tenant_id  TEXT   NOT NULL,
    id         TEXT   NOT NULL,
    key_hmac   TEXT   NOT NULL,
    key_kind   TEXT   NOT NULL,
    reason     TEXT   NOT NULL,
    created_at BIGINT NOT NULL,
    data       TEXT   NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX suppressions_key ON suppressions (tenant_id, key_hmac);
CREATE INDEX suppressions_created ON suppressions (tenant_id, created_at, id);
CREATE TABLE bases (
    tenant_id TEXT NOT NULL,
    id        TEXT NOT NULL,
    person_id TEXT NOT NULL,
    kind      TEXT NOT NULL,
    data      TEXT NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX bases_person ON bases (tenant_id, person_id);

-- Transactional outbox: mails written in the same transaction as the event that causes them,
-- sent by the jobs worker with retries; the message (recipient included) is sealed.
CREATE TABLE outbox (
    id              TEXT   PRIMARY KEY,
    tenant_id       TEXT   NOT NULL,
    kind            TEXT   NOT NULL,
    person_ref      TEXT,
    consent_ref     TEXT,
    sealed          BYTEA  NOT NULL,
    status          TEXT   NOT NULL,
    attempts        BIGINT NOT NULL,
    next_attempt_at BIGINT NOT NULL,
    created_at      BIGINT NOT NULL,
    sent_at         BIGINT,
    last_error      TEXT
);
CREATE INDEX outbox_due ON outbox (status, next_attempt_at);
CREATE INDEX outbox_person ON outbox (tenant_id, person_ref) WHERE status = 'pending';
-- Double opt-in tokens: only their SHA-256 is stored; single use; they expire.
CREATE TABLE doi_tokens (
    token_hash       TEXT   PRIMARY KEY,
    tenant_id        TEXT   NOT NULL,
    consent_id       TEXT   NOT NULL,
    contact_point_id TEXT   NOT NULL,
    message_id       TEXT   NOT NULL,
    sent_at          BIGINT NOT NULL,
    expires_at       BIGINT NOT NULL,
    used_at          BIGINT
);
-- Signup forms (a projection of form_defined) and every time one was served (what a person saw).
CREATE TABLE forms (
    slug      TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL,
    data      TEXT NOT NULL
);
CREATE TABLE form_serves (
    id          TEXT   PRIMARY KEY,
    tenant_id   TEXT   NOT NULL,
    slug        TEXT   NOT NULL,
    text_id     TEXT   NOT NULL,
    text_sha256 TEXT   NOT NULL,
    served_at   BIGINT NOT NULL
);
-- One-time codes for number verification (R15, R16): only a keyed hash of the code is stored.
CREATE TABLE otp_codes (
    id               TEXT   PRIMARY KEY,
    tenant_id        TEXT   NOT NULL,
    consent_id       TEXT   NOT NULL,
    contact_point_id TEXT   NOT NULL,
    code_mac         TEXT   NOT NULL,
    sent_at          BIGINT NOT NULL,
    expires_at       BIGINT NOT NULL,
    attempts         BIGINT NOT NULL,
    used_at          BIGINT
);
CREATE INDEX otp_codes_consent ON otp_codes (tenant_id, consent_id);
