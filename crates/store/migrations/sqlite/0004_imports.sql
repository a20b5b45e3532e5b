-- Imports (issue 6): one row per imported file and its options, written in the same transaction
-- as each batch of rows, so an interrupted import resumes after the last committed row and the
-- same file imported again changes nothing.
CREATE TABLE imports (
    tenant_id   TEXT   NOT NULL,
    id          TEXT   NOT NULL,
    file_sha256 TEXT   NOT NULL,
    format      TEXT   NOT NULL,
    state       TEXT   NOT NULL,
    rows_done   BIGINT NOT NULL,
    report      TEXT   NOT NULL,
    started_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
