//! Multi-row INSERTs for an append: rows that only insert are gathered per table and written
//! [`ROWS`] to a statement, so an import batch of thousands of rows is a few hundred statements
//! instead of about ten per row (each one a round trip on PostgreSQL). Anything that reads or
//! updates those tables flushes first, so every statement sees the rows appended before it.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

use crate::db::{Tx, Val};
use crate::error::StoreError;
use konsent_domain::ids::{ConsentId, ContactPointId};

/// Rows per multi-row statement (PostgreSQL allows 65,535 parameters, SQLite 32,766).
const ROWS: usize = 64;

/// Queued rows of one table that [`Bulk::flush_full`] writes.
const FULL: usize = 16 * ROWS;

/// A table rows are inserted into: the statement up to `VALUES`, the number of columns, and what
/// follows the values (an `ON CONFLICT` clause, or nothing). Tables are `static`s and told apart
/// by address, which a `static` has exactly one of (a `const` may have many).
#[derive(Debug)]
pub(crate) struct Table {
    pub(crate) head: &'static str,
    pub(crate) cols: usize,
    pub(crate) tail: &'static str,
}

pub(crate) static LEDGER: Table = Table {
    head: "INSERT INTO ledger (tenant_id, seq, event_id, kind, person_id, recorded_at, payload, prev_hash, hash, records)",
    cols: 10,
    tail: "",
};
pub(crate) static LEDGER_REFS: Table =
    Table { head: "INSERT INTO ledger_refs (tenant_id, person_id, seq, idx)", cols: 4, tail: "" };
/// A person's row with its vault columns ([`crate::vault`]).
pub(crate) static PERSONS: Table = Table {
    head: "INSERT INTO persons (tenant_id, id, recipient_class, org_unit_id, data_hash, data_version, created_at, updated_at, \
           wrapped_key, key_fp, key_created_at, sealed_version, sealed, sealed_sha256, sealed_at)",
    cols: 8 + crate::vault::PERSON_COLUMNS,
    tail: "",
};
/// A contact point's row with its vault columns ([`crate::vault`]). Columns 7 and 8
/// (`verified_at`, `verified_method`) are set by a verification appended in the same batch.
pub(crate) static CONTACT_POINTS: Table = Table {
    head: "INSERT INTO contact_points (tenant_id, id, person_id, kind, blind_index, value_hash, created_at, verified_at, \
           verified_method, sealed, sealed_sha256)",
    cols: 9 + crate::vault::POINT_COLUMNS,
    tail: "",
};
/// A consent's row, written whole: inserted, or its changing columns replaced (a status change,
/// a withdrawal, new evidence: `projection::put_consent`).
pub(crate) static CONSENTS: Table = Table {
    head: "INSERT INTO consents (tenant_id, id, person_id, status, text_id, given_at, granted_at, last_use_at, last_change_at, data)",
    cols: 10,
    tail: " ON CONFLICT (tenant_id, id) DO UPDATE SET status = excluded.status, granted_at = excluded.granted_at, \
           last_use_at = excluded.last_use_at, last_change_at = excluded.last_change_at, data = excluded.data",
};
/// A recorded consent's new row (`consent_recorded`: every record has a new id; recording an id
/// already stored fails its append instead of replacing that record). Queued appends use this
/// one: on SQLite an `ON CONFLICT … DO UPDATE` may abort half-way, so each multi-row upsert kept
/// a statement journal, a copy of every page it touched (about 2 % of the ledger writer's time in
/// an import); a plain `INSERT OR FAIL` needs none.
pub(crate) static NEW_CONSENTS: Table = Table { head: CONSENTS.head, cols: 10, tail: "" };
/// The statement inserting `rows` rows into `t`, made once per table and size and kept for the
/// life of the process (a handful of strings), so the drivers' statement caches can keep it.
///
/// With `or_fail` (SQLite only) the statement is `INSERT OR FAIL`: a constraint violation stops
/// it without undoing its earlier rows, so SQLite keeps no statement journal for it (a tenth of
/// the ledger writer's time in an import). A failed statement fails its whole append, which is
/// rolled back to its savepoint or with its transaction, so no row of it stays either way.
fn statement(t: &'static Table, rows: usize, or_fail: bool) -> &'static str {
    /// Table (by address), rows and `or_fail` → the statement.
    type Made = HashMap<(usize, usize, bool), &'static str>;
    static MADE: OnceLock<Mutex<Made>> = OnceLock::new();
    let made = MADE.get_or_init(Default::default);
    let mut made = made.lock().unwrap_or_else(|e| e.into_inner());
    made.entry((std::ptr::from_ref(t) as usize, rows, or_fail)).or_insert_with(|| {
        let mut sql = String::with_capacity(t.head.len() + rows * t.cols * 6 + t.tail.len() + 16);
        match t.head.strip_prefix("INSERT INTO ") {
            Some(rest) if or_fail => {
                sql.push_str("INSERT OR FAIL INTO ");
                sql.push_str(rest);
            }
            _ => sql.push_str(t.head),
        }
        sql.push_str(" VALUES ");
        for r in 0..rows {
            if r > 0 {
                sql.push_str(", ");
            }
            sql.push('(');
            for c in 0..t.cols {
                if c > 0 {
                    sql.push_str(", ");
                }
                sql.push_str(&format!("${}", r * t.cols + c + 1));
            }
            sql.push(')');
        }
        sql.push_str(t.tail);
        Box::leak(sql.into_boxed_str())
    })
}

/// The single-row insert into `t` (the same statement text as the queued path writes).
pub(crate) fn one(t: &'static Table) -> &'static str {
    statement(t, 1, false)
}

/// Rows waiting to be inserted, per table in the order the tables were first used.
#[derive(Default)]
pub(crate) struct Bulk {
    tables: Vec<(&'static Table, Vec<Vec<Val>>)>,
    /// Buffered `contact_points` rows by id (their index in that table's rows).
    contact_points: HashMap<ContactPointId, usize>,
    /// Ids of buffered `consents` rows (a second write of one goes through after a flush).
    consents: std::collections::HashSet<ConsentId>,
    /// The append's vault writes for the persons and contact points it registers, until their
    /// rows are queued.
    pub(crate) vault: crate::vault::Pending,
}

impl Bulk {
    fn rows(&mut self, t: &'static Table) -> &mut Vec<Vec<Val>> {
        let i = match self.tables.iter().position(|(x, _)| std::ptr::eq(*x, t)) {
            Some(i) => i,
            None => {
                self.tables.push((t, Vec::new()));
                self.tables.len() - 1
            }
        };
        &mut self.tables[i].1
    }

    /// Queues a row of `t`.
    pub(crate) fn push(&mut self, t: &'static Table, row: Vec<Val>) {
        debug_assert_eq!(row.len(), t.cols, "{}", t.head);
        self.rows(t).push(row);
    }

    /// Queues the row of contact point `id`.
    pub(crate) fn push_contact_point(&mut self, id: ContactPointId, row: Vec<Val>) {
        let rows = self.rows(&CONTACT_POINTS);
        rows.push(row);
        let at = rows.len() - 1;
        self.contact_points.insert(id, at);
    }

    /// Marks a queued contact point verified; `false` when it is not queued.
    pub(crate) fn verify_contact_point(&mut self, id: ContactPointId, at: i64, method: &str) -> bool {
        let Some(&i) = self.contact_points.get(&id) else { return false };
        match self.rows(&CONTACT_POINTS).get_mut(i) {
            Some(row) => {
                row[7] = Val::OptI64(Some(at));
                row[8] = Val::OptText(Some(method.to_string()));
                true
            }
            None => false,
        }
    }

    /// Queues a consent row unless one of the same id is queued (`false`: write it after a flush).
    pub(crate) fn push_consent(&mut self, id: ConsentId, row: Vec<Val>) -> bool {
        if !self.consents.insert(id) {
            return false;
        }
        self.push(&NEW_CONSENTS, row);
        true
    }

    /// Whether nothing is queued.
    pub(crate) fn is_empty(&self) -> bool {
        self.tables.iter().all(|(_, rows)| rows.is_empty())
    }

    /// Writes the tables that have [`FULL`] rows queued, so a batch of any size holds at most
    /// that many rows a table (an import batch queued every row until its end: about 4 KB a
    /// row). Rows of one table keep their order; tables are independent of each other.
    pub(crate) async fn flush_full(&mut self, tx: &mut Tx) -> Result<(), StoreError> {
        let mut full = Vec::new();
        for (t, rows) in &mut self.tables {
            if rows.len() >= FULL {
                full.push((*t, std::mem::take(rows)));
                if std::ptr::eq(*t, &CONTACT_POINTS) {
                    self.contact_points.clear();
                }
                if std::ptr::eq(*t, &NEW_CONSENTS) {
                    self.consents.clear();
                }
            }
        }
        write(tx, full).await
    }

    /// Writes everything queued.
    pub(crate) async fn flush(&mut self, tx: &mut Tx) -> Result<(), StoreError> {
        if self.is_empty() {
            return Ok(());
        }
        self.contact_points.clear();
        self.consents.clear();
        write(tx, std::mem::take(&mut self.tables)).await
    }
}

/// Writes the rows of each table, [`ROWS`] to a statement.
async fn write(tx: &mut Tx, tables: Vec<(&'static Table, Vec<Vec<Val>>)>) -> Result<(), StoreError> {
    let or_fail = tx.engine() == crate::db::Engine::Sqlite;
    for (t, rows) in tables {
        let mut rows = rows.into_iter().peekable();
        while rows.peek().is_some() {
            let chunk: Vec<Vec<Val>> = rows.by_ref().take(ROWS).collect();
            // Full statements of ROWS rows, the rest of a batch in eights and ones: few
            // distinct statements to prepare.
            let mut chunk = chunk.into_iter().peekable();
            while chunk.peek().is_some() {
                let left = chunk.len();
                let n = if left >= ROWS {
                    ROWS
                } else if left >= 8 {
                    8
                } else {
                    1
                };
                let args: Vec<Val> = chunk.by_ref().take(n).flatten().collect();
                tx.exec(statement(t, n, or_fail), args).await?;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statements_number_every_value_and_keep_the_tail() {
        let s = statement(&CONSENTS, 2, false);
        assert!(s.starts_with("INSERT INTO consents ("), "{s}");
        assert!(s.contains("VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10), ($11, "), "{s}");
        assert!(s.contains("$20) ON CONFLICT (tenant_id, id) DO UPDATE"), "{s}");
        assert!(std::ptr::eq(s, statement(&CONSENTS, 2, false)), "made once");
        assert_eq!(statement(&LEDGER, 1, false).matches('$').count(), 10);
        let s = statement(&CONSENTS, 2, true);
        assert!(s.starts_with("INSERT OR FAIL INTO consents ("), "{s}");
        assert!(s.contains("$20) ON CONFLICT (tenant_id, id) DO UPDATE"), "{s}");
    }
}
