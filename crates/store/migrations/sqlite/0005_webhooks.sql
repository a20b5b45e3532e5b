-- Webhooks out and in (issue 6, items 4 and 5). Not projections: the endpoint rows hold sealed
-- secrets that never enter the ledger, so they are written next to the ledger entries that record
-- their creation and deletion (webhook_created, webhook_deleted), in the same transaction.

-- Outgoing endpoints of a tenant. `events` is a comma-framed list (",consent.given,…,") so one
-- LIKE finds the subscribers of an event type. The signing secret is sealed under a key derived
-- from the master key.
CREATE TABLE webhook_endpoints (
    tenant_id     TEXT   NOT NULL,
    id            TEXT   NOT NULL,
    url           TEXT   NOT NULL,
    events        TEXT   NOT NULL,
    description   TEXT   NOT NULL,
    sealed_secret BLOB  NOT NULL,
    created_at    BIGINT NOT NULL,
    deleted_at    BIGINT,
    PRIMARY KEY (tenant_id, id)
);

-- One event for one endpoint: enqueued in the transaction of the ledger entry it reports, so a
-- delivery exists if and only if its event committed. The payload holds ids only. Status is
-- pending, delivered, parked (gave up after the configured attempts) or cancelled (endpoint
-- deleted). `log` has one line per attempt: time, status code or error kind (never a body).
CREATE TABLE webhook_deliveries (
    id              TEXT   PRIMARY KEY,
    tenant_id       TEXT   NOT NULL,
    endpoint_id     TEXT   NOT NULL,
    event_type      TEXT   NOT NULL,
    ledger_seq      BIGINT NOT NULL,
    payload         BLOB  NOT NULL,
    status          TEXT   NOT NULL,
    attempts        BIGINT NOT NULL,
    next_attempt_at BIGINT NOT NULL,
    created_at      BIGINT NOT NULL,
    delivered_at    BIGINT,
    last_status     BIGINT,
    last_error      TEXT,
    log             TEXT   NOT NULL
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (status, next_attempt_at);
CREATE INDEX webhook_deliveries_tenant ON webhook_deliveries (tenant_id, status, created_at);

-- Incoming endpoints: unsubscribes, bounces and complaints from newsletter tools. Found by the
-- SHA-256 of the unguessable token in their URL; the provider's signing secret (HubSpot client
-- secret, CleverReach call token) is sealed. `advertisers` is a JSON array: whose e-mail
-- consents an unsubscribe withdraws (empty: every advertiser).
CREATE TABLE webhook_inbound (
    token_hash    TEXT   PRIMARY KEY,
    tenant_id     TEXT   NOT NULL,
    id            TEXT   NOT NULL,
    provider      TEXT   NOT NULL,
    advertisers   TEXT   NOT NULL,
    description   TEXT   NOT NULL,
    sealed_secret BLOB,
    created_at    BIGINT NOT NULL,
    deleted_at    BIGINT
);
CREATE UNIQUE INDEX webhook_inbound_id ON webhook_inbound (tenant_id, id);

-- HubSpot names a contact by its object id only: the keyed hash (blind index) of the address an
-- `email` property change reported for it, so a later opt-out of that object can be honoured.
CREATE TABLE webhook_inbound_contacts (
    inbound_id TEXT   NOT NULL,
    object_id  TEXT   NOT NULL,
    key_hmac   TEXT   NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (inbound_id, object_id)
);
