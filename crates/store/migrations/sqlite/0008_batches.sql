-- Batch entries (an import batch): many persons' events in one ledger entry. Each person's events
-- are one record; the records are stored with the entry, whose payload holds their Merkle root.
ALTER TABLE ledger ADD COLUMN records BLOB;

-- Which batch entries hold a record of a person, and its index there: the person index of batch
-- entries (ledger_person serves the others). Append-only like the ledger.
CREATE TABLE ledger_refs (
    tenant_id TEXT   NOT NULL,
    person_id TEXT   NOT NULL,
    seq       BIGINT NOT NULL,
    idx       BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, person_id, seq)
) WITHOUT ROWID;
CREATE TRIGGER ledger_refs_no_update BEFORE UPDATE ON ledger_refs
BEGIN SELECT RAISE(ABORT, 'ledger_refs is append-only (UPDATE refused)'); END;
CREATE TRIGGER ledger_refs_no_delete BEFORE DELETE ON ledger_refs
BEGIN SELECT RAISE(ABORT, 'ledger_refs is append-only (DELETE refused)'); END;
