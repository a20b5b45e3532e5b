-- One confirmation link may cover several consents of one person (a re-permission mail that
-- renews them together): a token's hash is stored once per consent it confirms.
CREATE TABLE doi_tokens_new (
    token_hash       TEXT   NOT NULL,
    tenant_id        TEXT   NOT NULL,
    consent_id       TEXT   NOT NULL,
    contact_point_id TEXT   NOT NULL,
    message_id       TEXT   NOT NULL,
    sent_at          BIGINT NOT NULL,
    expires_at       BIGINT NOT NULL,
    used_at          BIGINT,
    purpose          TEXT   NOT NULL DEFAULT 'doi',
    PRIMARY KEY (token_hash, consent_id)
);
INSERT INTO doi_tokens_new (token_hash, tenant_id, consent_id, contact_point_id, message_id, sent_at, expires_at, used_at, purpose)
    SELECT token_hash, tenant_id, consent_id, contact_point_id, message_id, sent_at, expires_at, used_at, purpose FROM doi_tokens;
DROP TABLE doi_tokens;
ALTER TABLE doi_tokens_new RENAME TO doi_tokens;
CREATE INDEX doi_tokens_consent ON doi_tokens (tenant_id, consent_id);
