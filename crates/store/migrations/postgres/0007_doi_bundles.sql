-- One confirmation link may cover several consents of one person (a re-permission mail that
-- renews them together): a token's hash is stored once per consent it confirms.
ALTER TABLE doi_tokens DROP CONSTRAINT doi_tokens_pkey;
ALTER TABLE doi_tokens ADD PRIMARY KEY (token_hash, consent_id);
CREATE INDEX doi_tokens_consent ON doi_tokens (tenant_id, consent_id);
