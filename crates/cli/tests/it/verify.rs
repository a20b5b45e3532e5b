//! `verify` on both engines: intact chains pass; a cut-off tail, a forged checkpoint and a changed
//! hash are each found and named (R21).

use konsent_service::{checkpoint, demo, verify};
use konsent_store::Db;

use crate::app_test;
use crate::harness::TestApp;

async fn drop_ledger_triggers(db: &Db) {
    match db.engine() {
        konsent_store::Engine::Sqlite => {
            db.exec_script("DROP TRIGGER ledger_no_delete; DROP TRIGGER checkpoints_no_update".into()).await.unwrap()
        }
        konsent_store::Engine::Postgres => db
            .exec_script("ALTER TABLE ledger DISABLE TRIGGER USER; ALTER TABLE checkpoints DISABLE TRIGGER USER".into())
            .await
            .unwrap(),
    }
}

async fn filled(app: &TestApp) -> u64 {
    demo::generate(&app.k, app.tenant, 40, 7, &|_| {}).await.unwrap();
    checkpoint::seal_all(&app.k).await.unwrap();
    let r = verify::verify(&app.k).await.unwrap();
    assert!(r.ok(), "{:?}", r.broken);
    r.tenants.iter().find(|t| t.tenant == app.tenant).unwrap().entries
}

app_test!(r21_cut_off_tail_is_found, |app| {
    let head = filled(&app).await;
    drop_ledger_triggers(&app.k.db).await;
    app.k
        .db
        .exec(
            "DELETE FROM ledger WHERE tenant_id = $1 AND seq > $2",
            konsent_store::vals![app.tenant, (head - 3) as i64],
        )
        .await
        .unwrap();
    let r = verify::verify(&app.k).await.unwrap();
    let b = r.broken.expect("a shortened chain must not verify");
    assert_eq!(b.seq, head - 2, "{b}");
});

app_test!(r21_forged_checkpoint_is_found, |app| {
    let head = filled(&app).await;
    drop_ledger_triggers(&app.k.db).await;
    app.k
        .db
        .exec(
            "UPDATE checkpoints SET head_hash = $2 WHERE tenant_id = $1 AND seq = $3",
            konsent_store::vals![app.tenant, "00".repeat(32), head as i64],
        )
        .await
        .unwrap();
    let b = verify::verify(&app.k).await.unwrap().broken.expect("forged checkpoint must not verify");
    assert_eq!(b.seq, head, "{b}");
    assert!(b.to_string().contains("checkpoint"), "{b}");
});

app_test!(r21_changed_merkle_root_is_found, |app| {
    let head = filled(&app).await;
    let cps = konsent_store::ledger::checkpoints(&app.k.db, app.tenant).await.unwrap();
    let last = cps.last().unwrap();
    assert_eq!((last.seq, cps[0].from_seq), (head, 1), "checkpoints seal the whole chain from entry 1");
    assert!(cps.windows(2).all(|w| w[1].from_seq == w[0].seq + 1), "ranges follow each other");
    drop_ledger_triggers(&app.k.db).await;
    app.k
        .db
        .exec(
            "UPDATE checkpoints SET merkle_root = $2 WHERE tenant_id = $1 AND seq = $3",
            konsent_store::vals![app.tenant, "11".repeat(32), head as i64],
        )
        .await
        .unwrap();
    let b = verify::verify(&app.k).await.unwrap().broken.expect("a changed Merkle root must not verify");
    assert_eq!(b.seq, head, "{b}");
});
