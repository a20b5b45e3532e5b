//! What SQLite alone can do with the rows an import writes: `cargo run --release -p konsent-store
//! --example import_ceiling -- FILE N [BATCH]`. Creates Konsent's schema in FILE (a new SQLite
//! database), then writes N imported persons the way the import's ledger writer does, without any
//! of Konsent's own work (no CSV, no checks, no encryption, no JSON): per person four ledger
//! entries chained by SHA-256, and the rows of `persons` (with the vault's key and sealed data),
//! `contact_points` (with the sealed value) and `consents`, with the byte sizes a real import stores
//! (measured on a 100,000-row Mailchimp import). Prepared statements on one connection, BATCH
//! persons per transaction, `synchronous=FULL` as in Konsent. The rate is an upper bound for an
//! import that keeps today's rows.

use std::time::Instant;

use konsent_store::{Db, migrate};
use rusqlite::{Connection, params};
use sha2::{Digest, Sha256};

/// Bytes a real import stores per person (averages of a 100,000-row Mailchimp import).
const PAYLOAD: [(&str, usize); 4] = [
    ("person_registered", 410),
    ("contact_point_added", 523),
    ("consent_recorded", 1460),
    ("contact_point_verified", 354),
];
const CONSENT_JSON: usize = 1215;
const SEALED_DATA: usize = 199;
const SEALED_CONTACT: usize = 102;
const WRAPPED_KEY: usize = 72;

fn id(n: u64, salt: u64) -> String {
    // UUIDv7-shaped: time-ordered prefix, pseudo-random tail.
    let r = n.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ salt;
    format!("0193{:04x}-{:04x}-7{:03x}-8{:03x}-{:012x}", n >> 32, (n >> 16) & 0xffff, n & 0xfff, r & 0xfff, r >> 16)
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let file = args.get(1).expect("usage: import_ceiling FILE N [BATCH]").clone();
    let n: u64 = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(100_000);
    let batch: u64 = args.get(3).and_then(|s| s.parse().ok()).unwrap_or(2000);
    let _ = std::fs::remove_file(&file);
    if let Some(size) = std::env::var("PAGE_SIZE").ok().and_then(|s| s.parse::<i64>().ok()) {
        // Only an empty database takes another page size.
        let c = Connection::open(&file).expect("create");
        c.pragma_update(None, "page_size", size).expect("page size");
        c.execute_batch("CREATE TABLE page_size_probe (x); DROP TABLE page_size_probe;").expect("probe");
    }
    let db = Db::connect(&format!("sqlite://{file}"), 1).await.expect("create the database");
    migrate::migrate(&db, 0).await.expect("migrate");
    drop(db);

    let c = Connection::open(&file).expect("open");
    // WITHOUT_ROWID=ledger,persons,…: recreate those tables `WITHOUT ROWID`, keyed by their
    // primary key alone (no second unique index), with their indexes and triggers.
    for table in std::env::var("WITHOUT_ROWID").unwrap_or_default().split(',').filter(|t| !t.is_empty()) {
        without_rowid(&c, table);
    }
    // BLIND_INDEX=narrow: the blind index without the tenant in front (the queries still name it).
    if std::env::var("BLIND_INDEX").is_ok_and(|v| v == "narrow") {
        c.execute_batch(
            "DROP INDEX contact_points_blind; CREATE INDEX contact_points_blind ON contact_points (blind_index);",
        )
        .expect("narrow blind index");
    }
    // DROP_INDEXES=consents_changed,…: leave those indexes out, to see what each costs.
    for index in std::env::var("DROP_INDEXES").unwrap_or_default().split(',').filter(|t| !t.is_empty()) {
        c.execute_batch(&format!("DROP INDEX {index};")).expect("drop index");
    }
    // The blind index as its 32 bytes, as stored since migration 11; BLIND=text: as its 64 hex
    // characters, as before.
    let blind_blob = !std::env::var("BLIND").is_ok_and(|v| v == "text");
    // SORT_POINTS=n (with the vault folded): contact points written n at a time in the order of
    // their blind index, instead of in the file's order (n at most the transaction's persons).
    let sort_points: usize = std::env::var("SORT_POINTS").ok().and_then(|s| s.parse().ok()).unwrap_or(0);
    type Point = (Vec<u8>, rusqlite::types::Value, rusqlite::types::Value, rusqlite::types::Value, String, i64);
    let mut pending_points: Vec<Point> = Vec::new();
    // CHANGED=random: each consent's last change at a time of its own, in no order (an import
    // takes it from the file's opt-in and confirm times), instead of in the order written.
    let changed_random = std::env::var("CHANGED").is_ok_and(|v| v == "random");
    if std::env::var("LAYOUT").is_ok_and(|v| v == "binary") {
        return binary_layout(&c, &file, n, batch);
    }
    c.pragma_update(None, "journal_mode", "WAL").expect("wal");
    c.pragma_update(None, "synchronous", "FULL").expect("sync");
    c.pragma_update(None, "wal_autocheckpoint", 16_384).expect("checkpoint");
    c.pragma_update(None, "cache_size", -65_536).expect("cache");
    // COMPACT=1: the layout proposed for item 8 — one ledger entry per transaction whose payload
    // lists every person's records compactly (COMPACT_ROW bytes each), and a `consents` row
    // without the second copy of the record as JSON (COMPACT_JSON bytes of columns the gate reads).
    let compact = std::env::var("COMPACT").is_ok_and(|v| v == "1");
    let row_bytes: usize = std::env::var("COMPACT_ROW").ok().and_then(|s| s.parse().ok()).unwrap_or(320);
    // CONSENT_BYTES=n: the `consents.data` column holds n bytes (e.g. the record compressed).
    let consent_json = std::env::var("CONSENT_BYTES").ok().and_then(|s| s.parse().ok()).unwrap_or(if compact {
        160
    } else {
        CONSENT_JSON
    });
    // SKIP=persons,keys,data,points,values,consents: leave tables out, to see what each costs.
    let skip = std::env::var("SKIP").unwrap_or_default();
    // Today (migration 10) the person key and sealed data are in the person's row and the sealed
    // value in the contact point's row. VAULT=split: in three vault tables of their own instead,
    // as before migration 10 (`person_data` is still there, as the history of replaced versions).
    let folded = !std::env::var("VAULT").is_ok_and(|v| v == "split");
    if !folded {
        c.execute_batch(
            "CREATE TABLE person_keys (tenant_id TEXT NOT NULL, person_id TEXT NOT NULL, wrapped_key BLOB NOT NULL, \
             key_fp TEXT NOT NULL, created_at BIGINT NOT NULL, PRIMARY KEY (tenant_id, person_id)); \
             CREATE TABLE contact_values (tenant_id TEXT NOT NULL, contact_point_id TEXT NOT NULL, person_id TEXT NOT NULL, \
             sealed BLOB NOT NULL, sha256 TEXT NOT NULL, PRIMARY KEY (tenant_id, contact_point_id)); \
             CREATE INDEX contact_values_person ON contact_values (tenant_id, person_id);",
        )
        .expect("vault tables");
    }
    let vault_table = |t: &str| matches!(t, "keys" | "data" | "values");
    let on = |t: &str| !(skip.split(',').any(|s| s == t) || (folded && vault_table(t)));
    // IDS=blob: ids (tenant, person, contact point, consent, event) as 16-byte blobs in today's
    // TEXT-declared columns, as a data-only migration of today's tables would store them.
    let blob_ids = std::env::var("IDS").is_ok_and(|v| v == "blob");
    let idv = |s: &str| -> rusqlite::types::Value {
        if blob_ids {
            rusqlite::types::Value::Blob(hex::decode(s.replace('-', "")).expect("uuid hex"))
        } else {
            rusqlite::types::Value::Text(s.to_string())
        }
    };
    let tenant = idv(&id(1, 1));
    let blob = |len: usize, seed: u64| -> Vec<u8> { (0..len).map(|i| (seed as usize + i * 31) as u8).collect() };
    let mut prev = [0u8; 32];
    let mut seq: i64 = 0;
    let started = Instant::now();
    let mut done = 0;
    while done < n {
        let k = batch.min(n - done);
        c.execute_batch("BEGIN IMMEDIATE").expect("begin");
        {
            let mut ledger = c
                .prepare_cached(
                    "INSERT INTO ledger (tenant_id, seq, event_id, kind, person_id, recorded_at, payload, prev_hash, hash) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                )
                .expect("prepare");
            let mut persons = c
                .prepare_cached(if folded {
                    "INSERT INTO persons (tenant_id, id, recipient_class, org_unit_id, data_hash, data_version, created_at, updated_at, \
                     wrapped_key, key_fp, key_created_at, sealed_version, sealed, sealed_sha256, sealed_at) \
                     VALUES (?1, ?2, 'consumer', NULL, ?3, 1, ?4, ?4, ?5, 'fp', ?4, 1, ?6, ?3, ?4)"
                } else {
                    "INSERT INTO persons (tenant_id, id, recipient_class, org_unit_id, data_hash, data_version, created_at, updated_at) \
                     VALUES (?1, ?2, 'consumer', NULL, ?3, 1, ?4, ?4)"
                })
                .expect("prepare");
            let mut keys = (!folded).then(|| {
                c.prepare_cached(
                    "INSERT INTO person_keys (tenant_id, person_id, wrapped_key, key_fp, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
                )
                .expect("prepare")
            });
            let mut data = (!folded).then(|| {
                c.prepare_cached(
                    "INSERT INTO person_data (tenant_id, person_id, version, sealed, sha256, created_at) VALUES (?1, ?2, 1, ?3, ?4, ?5)",
                )
                .expect("prepare")
            });
            let mut points = c
                .prepare_cached(if folded {
                    "INSERT INTO contact_points (tenant_id, id, person_id, kind, blind_index, value_hash, verified_at, verified_method, created_at, \
                     sealed, sealed_sha256) VALUES (?1, ?2, ?3, 'email', ?4, ?5, ?6, 'import', ?6, ?7, ?5)"
                } else {
                    "INSERT INTO contact_points (tenant_id, id, person_id, kind, blind_index, value_hash, verified_at, verified_method, created_at) \
                     VALUES (?1, ?2, ?3, 'email', ?4, ?5, ?6, 'import', ?6)"
                })
                .expect("prepare");
            let mut values = (!folded).then(|| {
                c.prepare_cached(
                    "INSERT INTO contact_values (tenant_id, contact_point_id, person_id, sealed, sha256) VALUES (?1, ?2, ?3, ?4, ?5)",
                )
                .expect("prepare")
            });
            let mut consents = c
                .prepare_cached(
                    "INSERT INTO consents (tenant_id, id, person_id, status, text_id, given_at, granted_at, last_use_at, last_change_at, data) \
                     VALUES (?1, ?2, ?3, 'given', ?4, ?5, ?5, NULL, ?7, ?6)",
                )
                .expect("prepare");
            // Chains one entry onto the ledger: SHA-256 over the previous hash and the payload.
            let mut entry = |kind: &str, person: Option<&str>, at: i64, payload: Vec<u8>| {
                seq += 1;
                let mut h = Sha256::new();
                h.update(prev);
                h.update(&payload);
                let hash: [u8; 32] = h.finalize().into();
                ledger
                    .execute(params![
                        tenant,
                        seq,
                        idv(&id(seq as u64, 4)),
                        kind,
                        person.map(idv),
                        at,
                        payload,
                        prev.to_vec(),
                        hash.to_vec()
                    ])
                    .expect("ledger");
                prev = hash;
            };
            if compact {
                entry("import_batch", None, 1_700_000_000_000_000 + done as i64, blob(row_bytes * k as usize, done));
            }
            for i in done..done + k {
                let at = 1_700_000_000_000_000 + i as i64;
                let person_s = id(i, 2);
                let cp_s = id(i, 3);
                let hash_hex = hex::encode(Sha256::digest(person_s.as_bytes()));
                let blind_bytes = Sha256::digest(cp_s.as_bytes());
                let blind = if blind_blob {
                    rusqlite::types::Value::Blob(blind_bytes.to_vec())
                } else {
                    rusqlite::types::Value::Text(hex::encode(blind_bytes))
                };
                let (person, cp) = (idv(&person_s), idv(&cp_s));
                for (kind, len) in PAYLOAD.iter().copied().filter(|_| !compact) {
                    entry(kind, Some(&person_s), at, blob(len, i));
                }
                if on("persons") {
                    if folded {
                        let (key, sealed) = (blob(WRAPPED_KEY, i), blob(SEALED_DATA, i));
                        persons.execute(params![tenant, person, hash_hex, at, key, sealed]).expect("persons");
                    } else {
                        persons.execute(params![tenant, person, hash_hex, at]).expect("persons");
                    }
                }
                if on("keys") {
                    keys.as_mut()
                        .expect("split vault")
                        .execute(params![tenant, person, blob(WRAPPED_KEY, i), "fp", at])
                        .expect("keys");
                }
                if on("data") {
                    data.as_mut()
                        .expect("split vault")
                        .execute(params![tenant, person, blob(SEALED_DATA, i), hash_hex, at])
                        .expect("data");
                }
                if on("points") {
                    if sort_points > 0 {
                        // Written in blind-index order, SORT_POINTS at a time (below).
                        pending_points.push((
                            blind_bytes.to_vec(),
                            blind.clone(),
                            cp.clone(),
                            person.clone(),
                            hash_hex.clone(),
                            at,
                        ));
                        if pending_points.len() >= sort_points {
                            pending_points.sort_by(|a, b| a.0.cmp(&b.0));
                            for (_, blind, cp, person, hash_hex, at) in pending_points.drain(..) {
                                let sealed = blob(SEALED_CONTACT, i);
                                points
                                    .execute(params![tenant, cp, person, blind, hash_hex, at, sealed])
                                    .expect("points");
                            }
                        }
                    } else if folded {
                        let sealed = blob(SEALED_CONTACT, i);
                        points.execute(params![tenant, cp, person, blind, hash_hex, at, sealed]).expect("points");
                    } else {
                        points.execute(params![tenant, cp, person, blind, hash_hex, at]).expect("points");
                    }
                }
                if on("values") {
                    values
                        .as_mut()
                        .expect("split vault")
                        .execute(params![tenant, cp, person, blob(SEALED_CONTACT, i), hash_hex])
                        .expect("values");
                }
                if on("consents") {
                    consents
                        .execute(params![
                            tenant,
                            idv(&id(i, 5)),
                            person,
                            "text",
                            at,
                            String::from_utf8(vec![b'x'; consent_json]).unwrap_or_default(),
                            if changed_random {
                                1_600_000_000_000_000
                                    + (i.wrapping_mul(0x9E37_79B9_7F4A_7C15) % 100_000_000_000_000) as i64
                            } else {
                                at
                            }
                        ])
                        .expect("consents");
                }
            }
        }
        c.execute("UPDATE chain_heads SET seq = ?1 WHERE tenant_id = ?2", params![seq, tenant]).expect("head");
        c.execute_batch("COMMIT").expect("commit");
        done += k;
    }
    let secs = started.elapsed().as_secs_f64();
    let size = std::fs::metadata(&file).map(|m| m.len()).unwrap_or(0)
        + std::fs::metadata(format!("{file}-wal")).map(|m| m.len()).unwrap_or(0);
    println!(
        "{n} persons ({} ledger entries), {batch} per transaction: {secs:.2} s = {:.0} persons/s, {:.1} KB per person",
        seq,
        n as f64 / secs,
        size as f64 / n as f64 / 1024.0
    );
}

/// `LAYOUT=binary`: the smallest layout that keeps what Konsent needs per imported person — 16-byte
/// binary ids, `WITHOUT ROWID` tables keyed by them, the vault key, sealed data and contact value
/// in the person's and contact point's own rows, the indexes the gate and the proofs read
/// (contact by blind index, contact and consent by person, consent by change), and one ledger
/// entry per transaction (320 bytes a person). An upper bound for a redesigned store.
///
/// To price each part of that layout, these put one of today's choices back:
/// - `BIN_TENANT=1`: a 16-byte tenant id in front of every key and index, as today's tables have;
/// - `BIN_VAULT=split`: the vault in tables of its own (key, data, contact value; the value's
///   by-person index), as today;
/// - `BIN_CONSENT_BYTES=n`: n bytes of record in each consent row (today: the JSON, 1,215);
/// - `BIN_REFS=1`: a `ledger_refs` row a person (person, seq, index), as today's batch entries.
fn binary_layout(c: &Connection, file: &str, n: u64, batch: u64) {
    let flag = |k: &str| std::env::var(k).is_ok_and(|v| v != "0" && !v.is_empty());
    let tenant = flag("BIN_TENANT");
    let split = std::env::var("BIN_VAULT").is_ok_and(|v| v == "split");
    let refs = flag("BIN_REFS");
    let consent_bytes: usize = std::env::var("BIN_CONSENT_BYTES").ok().and_then(|s| s.parse().ok()).unwrap_or(0);
    c.pragma_update(None, "journal_mode", "WAL").expect("wal");
    c.pragma_update(None, "synchronous", "FULL").expect("sync");
    c.pragma_update(None, "wal_autocheckpoint", 16_384).expect("checkpoint");
    c.pragma_update(None, "cache_size", -65_536).expect("cache");
    // `t` is the tenant column in front of each key, or nothing.
    let t = if tenant { "t, " } else { "" };
    let tc = if tenant { "t BLOB NOT NULL, " } else { "" };
    let mut schema = format!(
        "CREATE TABLE b_ledger (seq INTEGER PRIMARY KEY, payload BLOB NOT NULL, prev_hash BLOB NOT NULL, hash BLOB NOT NULL);
         CREATE TABLE b_persons ({tc}id BLOB NOT NULL, class INTEGER NOT NULL, data_version INTEGER NOT NULL,
             wrapped_key BLOB, sealed BLOB, data_hash BLOB NOT NULL, created_at INTEGER NOT NULL,
             updated_at INTEGER NOT NULL, PRIMARY KEY ({t}id)) WITHOUT ROWID;
         CREATE TABLE b_points ({tc}id BLOB NOT NULL, person_id BLOB NOT NULL, kind INTEGER NOT NULL,
             blind_index BLOB NOT NULL, sealed BLOB, verified_at INTEGER, PRIMARY KEY ({t}id)) WITHOUT ROWID;
         CREATE INDEX b_points_blind ON b_points ({t}blind_index);
         CREATE INDEX b_points_person ON b_points ({t}person_id);
         CREATE TABLE b_consents ({tc}id BLOB NOT NULL, person_id BLOB NOT NULL, status INTEGER NOT NULL,
             text_id BLOB NOT NULL, given_at INTEGER NOT NULL, granted_at INTEGER, last_change_at INTEGER NOT NULL,
             channels INTEGER NOT NULL, batch_seq INTEGER NOT NULL, data BLOB, PRIMARY KEY ({t}id)) WITHOUT ROWID;
         CREATE INDEX b_consents_person ON b_consents ({t}person_id);
         CREATE INDEX b_consents_changed ON b_consents ({t}last_change_at, id);"
    );
    if split {
        schema += &format!(
            "CREATE TABLE b_keys ({tc}person_id BLOB NOT NULL, wrapped_key BLOB NOT NULL, PRIMARY KEY ({t}person_id)) WITHOUT ROWID;
             CREATE TABLE b_data ({tc}person_id BLOB NOT NULL, version INTEGER NOT NULL, sealed BLOB NOT NULL,
                 PRIMARY KEY ({t}person_id, version)) WITHOUT ROWID;
             CREATE TABLE b_values ({tc}point_id BLOB NOT NULL, person_id BLOB NOT NULL, sealed BLOB NOT NULL,
                 PRIMARY KEY ({t}point_id)) WITHOUT ROWID;
             CREATE INDEX b_values_person ON b_values ({t}person_id);"
        );
    }
    if refs {
        schema += &format!(
            "CREATE TABLE b_refs ({tc}person_id BLOB NOT NULL, seq INTEGER NOT NULL, idx INTEGER NOT NULL,
                 PRIMARY KEY ({t}person_id, seq)) WITHOUT ROWID;"
        );
    }
    c.execute_batch(&schema).expect("schema");
    let tcol = if tenant { "t, " } else { "" };
    let tval = if tenant { "?9, " } else { "" };
    let bid = |i: u64, salt: u64| -> Vec<u8> {
        // UUIDv7-shaped: time-ordered prefix, pseudo-random tail.
        let r = i.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ salt;
        let mut b = (i << 16).to_be_bytes().to_vec();
        b.extend_from_slice(&r.to_be_bytes());
        b
    };
    let blob = |len: usize, seed: u64| -> Vec<u8> { (0..len).map(|i| (seed as usize + i * 31) as u8).collect() };
    let mut prev = [0u8; 32];
    let (mut seq, mut done) = (0i64, 0u64);
    let started = Instant::now();
    while done < n {
        let k = batch.min(n - done);
        c.execute_batch("BEGIN IMMEDIATE").expect("begin");
        {
            // Parameter 9 is the tenant where there is one; unused ones are not bound.
            let mut ledger = c.prepare_cached("INSERT INTO b_ledger VALUES (?1, ?2, ?3, ?4)").expect("prepare");
            let mut persons = c
                .prepare_cached(&format!(
                    "INSERT INTO b_persons ({tcol}id, class, data_version, wrapped_key, sealed, data_hash, created_at, updated_at) \
                     VALUES ({tval}?1, 1, 1, ?2, ?3, ?4, ?5, ?5)"
                ))
                .expect("prepare");
            let mut points = c
                .prepare_cached(&format!(
                    "INSERT INTO b_points ({tcol}id, person_id, kind, blind_index, sealed, verified_at) \
                     VALUES ({tval}?1, ?2, 1, ?3, ?4, ?5)"
                ))
                .expect("prepare");
            let mut consents = c
                .prepare_cached(&format!(
                    "INSERT INTO b_consents ({tcol}id, person_id, status, text_id, given_at, granted_at, last_change_at, \
                     channels, batch_seq, data) VALUES ({tval}?1, ?2, 2, ?3, ?4, ?4, ?4, 8, ?5, ?6)"
                ))
                .expect("prepare");
            let mut vault = split.then(|| {
                [
                    format!("INSERT INTO b_keys ({tcol}person_id, wrapped_key) VALUES ({tval}?1, ?2)"),
                    format!("INSERT INTO b_data ({tcol}person_id, version, sealed) VALUES ({tval}?1, 1, ?2)"),
                    format!("INSERT INTO b_values ({tcol}point_id, person_id, sealed) VALUES ({tval}?1, ?2, ?3)"),
                ]
                .map(|sql| c.prepare_cached(&sql).expect("prepare"))
            });
            let mut refs_stmt = refs.then(|| {
                c.prepare_cached(&format!("INSERT INTO b_refs ({tcol}person_id, seq, idx) VALUES ({tval}?1, ?2, ?3)"))
                    .expect("prepare")
            });
            let tenant_id = bid(1, 1);
            seq += 1;
            let payload = blob(320 * k as usize, done);
            let mut h = Sha256::new();
            h.update(prev);
            h.update(&payload);
            let hash: [u8; 32] = h.finalize().into();
            ledger.execute(params![seq, payload, prev.to_vec(), hash.to_vec()]).expect("ledger");
            prev = hash;
            let text = bid(0, 9);
            for i in done..done + k {
                let at = 1_700_000_000_000_000 + i as i64;
                let person = bid(i, 2);
                let data_hash = Sha256::digest(&person).to_vec();
                let blind = Sha256::digest(bid(i, 3)).to_vec();
                let (key, data, value) = (blob(WRAPPED_KEY, i), blob(SEALED_DATA, i), blob(SEALED_CONTACT, i));
                let record = (consent_bytes > 0).then(|| blob(consent_bytes, i));
                // Binds parameters 1.. in order, and the tenant as 9 where the statement has it.
                let run = |s: &mut rusqlite::CachedStatement<'_>, vals: &[&dyn rusqlite::ToSql]| {
                    for (k, v) in vals.iter().enumerate() {
                        s.raw_bind_parameter(k + 1, v).expect("bind");
                    }
                    if tenant {
                        s.raw_bind_parameter(9, &tenant_id).expect("bind");
                    }
                    s.raw_execute().expect("insert");
                };
                match &mut vault {
                    Some([keys, datas, values]) => {
                        run(&mut persons, &[&person, &None::<Vec<u8>>, &None::<Vec<u8>>, &data_hash, &at]);
                        run(keys, &[&person, &key]);
                        run(datas, &[&person, &data]);
                        run(&mut points, &[&bid(i, 3), &person, &blind, &None::<Vec<u8>>, &at]);
                        run(values, &[&bid(i, 3), &person, &value]);
                    }
                    None => {
                        run(&mut persons, &[&person, &key, &data, &data_hash, &at]);
                        run(&mut points, &[&bid(i, 3), &person, &blind, &value, &at]);
                    }
                }
                run(&mut consents, &[&bid(i, 5), &person, &text, &at, &seq, &record]);
                if let Some(r) = &mut refs_stmt {
                    run(r, &[&person, &seq, &((i - done) as i64)]);
                }
            }
        }
        c.execute_batch("COMMIT").expect("commit");
        done += k;
    }
    let secs = started.elapsed().as_secs_f64();
    let size = std::fs::metadata(file).map(|m| m.len()).unwrap_or(0)
        + std::fs::metadata(format!("{file}-wal")).map(|m| m.len()).unwrap_or(0);
    println!(
        "binary layout (tenant {tenant}, vault split {split}, consent record {consent_bytes} B, refs {refs}): {n} persons ({seq} ledger entries), {batch} per transaction: {secs:.2} s = {:.0} persons/s, {:.1} KB per person",
        n as f64 / secs,
        size as f64 / n as f64 / 1024.0
    );
}

/// Recreates the empty `table` as a `WITHOUT ROWID` table with its indexes and triggers.
fn without_rowid(c: &Connection, table: &str) {
    let mut q =
        c.prepare("SELECT type, sql FROM sqlite_master WHERE tbl_name = ?1 AND sql IS NOT NULL").expect("schema");
    let objects: Vec<(String, String)> =
        q.query_map([table], |r| Ok((r.get(0)?, r.get(1)?))).expect("schema").map(|r| r.expect("row")).collect();
    let mut script = format!("DROP TABLE {table};");
    for (kind, sql) in objects.iter().filter(|(k, _)| k == "table") {
        let _ = kind;
        script.push_str(&format!("{sql} WITHOUT ROWID;"));
    }
    for (_, sql) in objects.iter().filter(|(k, _)| k != "table") {
        script.push_str(&format!("{sql};"));
    }
    c.execute_batch(&script).expect("recreate WITHOUT ROWID");
}
