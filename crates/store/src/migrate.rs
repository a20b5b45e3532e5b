//! Schema migrations: append-only, one SQL file per engine with the same number and name.

use konsent_domain::crypto::sha256_hex;

use crate::db::{Db, Engine};
use crate::error::StoreError;
use crate::vals;

struct Migration {
    version: i64,
    name: &'static str,
    sqlite: &'static str,
    postgres: &'static str,
}

const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "init",
        sqlite: include_str!("../migrations/sqlite/0001_init.sql"),
        postgres: include_str!("../migrations/postgres/0001_init.sql"),
    },
    Migration {
        version: 2,
        name: "proof",
        sqlite: include_str!("../migrations/sqlite/0002_proof.sql"),
        postgres: include_str!("../migrations/postgres/0002_proof.sql"),
    },
    Migration {
        version: 3,
        name: "rights",
        sqlite: include_str!("../migrations/sqlite/0003_rights.sql"),
        postgres: include_str!("../migrations/postgres/0003_rights.sql"),
    },
    Migration {
        version: 4,
        name: "imports",
        sqlite: include_str!("../migrations/sqlite/0004_imports.sql"),
        postgres: include_str!("../migrations/postgres/0004_imports.sql"),
    },
    Migration {
        version: 5,
        name: "webhooks",
        sqlite: include_str!("../migrations/sqlite/0005_webhooks.sql"),
        postgres: include_str!("../migrations/postgres/0005_webhooks.sql"),
    },
    Migration {
        version: 6,
        name: "segments",
        sqlite: include_str!("../migrations/sqlite/0006_segments.sql"),
        postgres: include_str!("../migrations/postgres/0006_segments.sql"),
    },
    Migration {
        version: 7,
        name: "doi_bundles",
        sqlite: include_str!("../migrations/sqlite/0007_doi_bundles.sql"),
        postgres: include_str!("../migrations/postgres/0007_doi_bundles.sql"),
    },
    Migration {
        version: 8,
        name: "batches",
        sqlite: include_str!("../migrations/sqlite/0008_batches.sql"),
        postgres: include_str!("../migrations/postgres/0008_batches.sql"),
    },
    Migration {
        version: 9,
        name: "binary_ids",
        sqlite: include_str!("../migrations/sqlite/0009_binary_ids.sql"),
        postgres: include_str!("../migrations/postgres/0009_binary_ids.sql"),
    },
    Migration {
        version: 10,
        name: "vault_folded",
        sqlite: include_str!("../migrations/sqlite/0010_vault_folded.sql"),
        postgres: include_str!("../migrations/postgres/0010_vault_folded.sql"),
    },
    Migration {
        version: 11,
        name: "blind_bytes",
        sqlite: include_str!("../migrations/sqlite/0011_blind_bytes.sql"),
        postgres: include_str!("../migrations/postgres/0011_blind_bytes.sql"),
    },
];

const CREATE_TABLE: &str = "CREATE TABLE IF NOT EXISTS schema_migrations (\
    version BIGINT PRIMARY KEY, name TEXT NOT NULL, checksum TEXT NOT NULL, applied_at BIGINT NOT NULL)";

/// Applies every migration not yet applied; refuses when an applied one was changed
/// or the database is newer than this program.
pub async fn migrate(db: &Db, now_micros: i64) -> Result<(), StoreError> {
    db.exec(CREATE_TABLE, vec![]).await?;
    let applied = db.fetch_all("SELECT version, checksum FROM schema_migrations ORDER BY version", vec![]).await?;
    let known_max = MIGRATIONS.last().map(|m| m.version).unwrap_or(0);
    for row in &applied {
        let v = row.i64(0)?;
        if v > known_max {
            return Err(StoreError::Schema(format!(
                "database has migration {v}, this konsent knows only up to {known_max}: upgrade konsent"
            )));
        }
    }
    let mut applied_now = false;
    for m in MIGRATIONS {
        let sql = match db.engine() {
            Engine::Sqlite => m.sqlite,
            Engine::Postgres => m.postgres,
        };
        let sum = sha256_hex(sql.as_bytes());
        if let Some(row) = applied.iter().find(|r| r.i64(0).ok() == Some(m.version)) {
            if row.text(1)? != sum {
                return Err(StoreError::Schema(format!(
                    "migration {} ({}) was changed after it was applied; migrations are append-only",
                    m.version, m.name
                )));
            }
            continue;
        }
        let mut tx = db.begin().await?;
        tx.exec_script(sql.to_string()).await?;
        tx.exec(
            "INSERT INTO schema_migrations (version, name, checksum, applied_at) VALUES ($1, $2, $3, $4)",
            vals![m.version, m.name, sum, now_micros],
        )
        .await?;
        tx.commit().await?;
        tracing::info!(version = m.version, name = m.name, "applied migration");
        applied_now = true;
    }
    if applied_now && db.engine() == Engine::Sqlite {
        // A migration that rewrites the store (9 converts every id) is one transaction: give the
        // disk its WAL back at once instead of keeping a file the size of the store.
        db.exec("PRAGMA wal_checkpoint(TRUNCATE)", vec![]).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_engines_have_the_same_migrations_and_tables() {
        for m in MIGRATIONS {
            // A table rebuilt under a new name and renamed back (SQLite cannot change a primary
            // key in place) is no new table.
            let tables = |sql: &str| {
                let mut t: Vec<String> = sql
                    .lines()
                    .filter_map(|l| l.strip_prefix("CREATE TABLE "))
                    .map(|l| l.split_whitespace().next().unwrap_or("").to_string())
                    .filter(|t| !sql.contains(&format!("ALTER TABLE {t} RENAME TO ")))
                    .collect();
                t.sort();
                t
            };
            assert_eq!(tables(m.sqlite), tables(m.postgres), "migration {}", m.name);
            if m.version == 1 {
                assert!(m.sqlite.contains("ledger_no_update") && m.postgres.contains("ledger_no_update_delete"));
            }
        }
    }
}
