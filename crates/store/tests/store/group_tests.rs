//! Group commit on both engines: appends gathered into one transaction, a failing one isolated,
//! and an import's batches sharing a transaction that stays open for the next one.

use std::time::Duration;

use konsent_domain::ids::EventId;
use konsent_domain::ledger::{Actor, EventBody};
use konsent_store::ledger::Commit;
use konsent_store::{Engine, GroupCommit, HeadWatch, PendingEvent, SideWrite, Submitted, ledger, queries};
use konsent_testkit::both_engines;

use super::common::{ev, ids_of, now, person_events, tenant, verify};

/// An import batch's folding, committing as given.
fn folding(n: u8, commit: Commit) -> Option<ledger::Folding> {
    Some(ledger::Folding {
        event_id: EventId::from_parts(1_700_000_000_000, [n; 10]),
        actor: Actor::System,
        label: "import x".into(),
        commit,
    })
}

both_engines!(group_commit_isolates_a_failing_append, |db| {
    use konsent_domain::consent::ConsentStatus;
    use konsent_domain::ids::ConsentId;
    let t = tenant(7);
    let g = konsent_store::GroupCommit::start(db.clone(), konsent_store::HeadWatch::inert());
    let mut tasks = Vec::new();
    for task in 0..64u64 {
        let g = g.clone();
        tasks.push(tokio::spawn(async move {
            if task == 13 {
                // Refers to a consent that does not exist: the projection refuses it.
                let bad = ev(
                    99_999,
                    EventBody::ConsentStatusChanged {
                        consent_id: ConsentId::from_parts(1, [1; 10]),
                        from: ConsentStatus::Given,
                        to: ConsentStatus::Expired,
                        reason: "stale".into(),
                        at: now(),
                    },
                );
                return g.append(t, now(), vec![bad], vec![]).await.is_err();
            }
            g.append(t, now(), person_events(task), vec![]).await.is_ok()
        }));
    }
    for h in tasks {
        assert!(h.await.unwrap());
    }
    assert_eq!(verify(db, t).await.unwrap(), 63 * 2, "every good append committed, the bad one left no trace");
    assert_eq!(queries::stats(db, t).await.unwrap().persons, 63);
});

both_engines!(an_append_failing_inside_a_multi_row_insert_leaves_none_of_its_rows, |db| {
    let t = tenant(9);
    let g = konsent_store::GroupCommit::start(db.clone(), konsent_store::HeadWatch::inert());
    g.append(t, now(), (1..=20).flat_map(person_events).collect(), vec![]).await.unwrap();
    // 64 new persons in one append, with person 5 registered again as the 41st: the duplicate
    // fails the persons insert of 64 rows after 40 good ones, and after the append's ledger rows
    // were written (on SQLite an `INSERT OR FAIL`, which does not undo those rows itself).
    let again = person_events(5).into_iter().next().unwrap();
    let mut bad: Vec<PendingEvent> = (100..140).flat_map(person_events).collect();
    bad.push(ev(9_000, again.body));
    bad.extend((140..163).flat_map(person_events));
    assert!(g.append(t, now(), bad, vec![]).await.is_err());
    assert_eq!(verify(db, t).await.unwrap(), 40, "none of the failed append's ledger rows stayed");
    assert_eq!(queries::stats(db, t).await.unwrap().persons, 20);
    assert!(queries::persons_by_blind_index(db, t, "bi100").await.unwrap().is_empty());
    // The chain goes on from where it was.
    g.append(t, now(), person_events(200), vec![]).await.unwrap();
    assert_eq!(verify(db, t).await.unwrap(), 42);
    assert_eq!(queries::stats(db, t).await.unwrap().persons, 21);
});

/// How long the writers of these tests keep a transaction open for a next batch: far longer
/// than anything they wait for, so a commit within [`SOON`] was not the wait running out.
const LONG: Duration = Duration::from_secs(30);
const SOON: Duration = Duration::from_secs(10);

/// A writer that keeps an open transaction [`LONG`].
fn writer(db: &konsent_store::Db) -> GroupCommit {
    GroupCommit::lingering(db.clone(), HeadWatch::inert(), LONG)
}

/// Waits up to [`SOON`] for an append's commit.
async fn committed_soon(s: &mut Submitted) -> Option<usize> {
    let deadline = std::time::Instant::now() + SOON;
    while std::time::Instant::now() < deadline {
        if let Some(r) = s.try_committed() {
            return Some(r.unwrap().len());
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    None
}

both_engines!(import_batches_share_one_open_transaction_on_sqlite_that_the_durable_last_one_ends, |db| {
    let t = tenant(10);
    let sqlite = db.engine() == Engine::Sqlite;
    let g = writer(db);
    let mut a =
        g.submit(t, now(), (1..=3).flat_map(person_events).collect(), vec![], folding(1, Commit::Open)).await.unwrap();
    a.when_taken().await;
    if !sqlite {
        // PostgreSQL commits each batch at once (see `group::Writer::lingers`).
        assert_eq!(committed_soon(&mut a).await, Some(6));
        assert_eq!(queries::stats(db, t).await.unwrap().persons, 3);
        return;
    }
    // Taken, not committed: the transaction waits for the next batch, and readers do not see it.
    assert!(a.try_committed().is_none(), "the first batch is still in the open transaction");
    assert_eq!(queries::stats(db, t).await.unwrap().persons, 0);
    let mut b =
        g.submit(t, now(), (4..=6).flat_map(person_events).collect(), vec![], folding(2, Commit::Open)).await.unwrap();
    b.when_taken().await;
    assert!(b.try_committed().is_none());
    // The import's last batch flushes: it commits the two before it, then itself.
    let mut c = g
        .submit(t, now(), (7..=9).flat_map(person_events).collect(), vec![], folding(3, Commit::Durable))
        .await
        .unwrap();
    assert_eq!(committed_soon(&mut c).await, Some(6), "the durable batch does not wait for the open transaction");
    assert_eq!(a.committed().await.unwrap().len(), 6);
    assert_eq!(b.committed().await.unwrap().len(), 6);
    assert_eq!(queries::stats(db, t).await.unwrap().persons, 9);
    assert_eq!(verify(db, t).await.unwrap(), 3, "one batch entry each");
    // An API write after them commits on its own.
    g.append(t, now(), person_events(10), vec![]).await.unwrap();
    assert_eq!(verify(db, t).await.unwrap(), 5);
});

both_engines!(an_open_import_transaction_commits_when_no_batch_follows_or_an_api_write_comes, |db| {
    let t = tenant(11);
    let sqlite = db.engine() == Engine::Sqlite;
    let short = Duration::from_millis(300);
    let g = GroupCommit::lingering(db.clone(), HeadWatch::inert(), short);
    let a =
        g.submit(t, now(), (1..=2).flat_map(person_events).collect(), vec![], folding(1, Commit::Open)).await.unwrap();
    // A stopped import sends nothing more: the writer commits after waiting for it (SQLite).
    let started = std::time::Instant::now();
    assert_eq!(a.committed().await.unwrap().len(), 4);
    if sqlite {
        assert!(started.elapsed() >= short, "SQLite waits for a next batch first");
    }
    assert_eq!(queries::stats(db, t).await.unwrap().persons, 2);
    // A plain append meanwhile is not held back by the wait: it ends the open transaction.
    let g = writer(db);
    let mut b = g.submit(t, now(), person_events(3), vec![], folding(2, Commit::Open)).await.unwrap();
    b.when_taken().await;
    let started = std::time::Instant::now();
    g.append(t, now(), person_events(4), vec![]).await.unwrap();
    assert!(started.elapsed() < SOON, "the API write did not wait for the open transaction's timeout");
    assert_eq!(b.committed().await.unwrap().len(), 2);
    assert_eq!(queries::stats(db, t).await.unwrap().persons, 4);
    assert_eq!(verify(db, t).await.unwrap(), 4);
});

both_engines!(a_batch_failing_in_an_open_import_transaction_takes_the_whole_transaction_back, |db| {
    let t = tenant(12);
    let sqlite = db.engine() == Engine::Sqlite;
    let g = writer(db);
    g.append(t, now(), person_events(1), vec![]).await.unwrap();
    let mut a =
        g.submit(t, now(), (2..=4).flat_map(person_events).collect(), vec![], folding(1, Commit::Open)).await.unwrap();
    a.when_taken().await;
    // Person 1 registered again: this batch fails, and on SQLite with it the batch waiting in
    // the open transaction before it.
    let again: Vec<PendingEvent> =
        (5..=6).flat_map(person_events).chain([ev(9_000, person_events(1).remove(0).body)]).collect();
    let b = g.submit(t, now(), again, vec![], folding(2, Commit::Open)).await.unwrap();
    assert!(b.committed().await.is_err());
    if sqlite {
        let a = a.committed().await.unwrap_err().to_string();
        assert!(a.contains("rolled back"), "{a}");
        assert_eq!(queries::stats(db, t).await.unwrap().persons, 1, "nothing of either batch stayed");
        assert_eq!(verify(db, t).await.unwrap(), 2);
    } else {
        assert_eq!(a.committed().await.unwrap().len(), 6, "committed before the failing one came");
        assert_eq!(queries::stats(db, t).await.unwrap().persons, 4);
        assert_eq!(verify(db, t).await.unwrap(), 3);
    }
    // The chain goes on from where it was.
    let head = verify(db, t).await.unwrap();
    g.append(t, now(), person_events(7), vec![]).await.unwrap();
    assert_eq!(verify(db, t).await.unwrap(), head + 2);
});

both_engines!(a_lazy_batch_ends_an_open_import_transaction_without_waiting, |db| {
    let t = tenant(13);
    let sqlite = db.engine() == Engine::Sqlite;
    let g = writer(db);
    let mut a = g.submit(t, now(), person_events(1), vec![], folding(1, Commit::Open)).await.unwrap();
    a.when_taken().await;
    // The import's transaction ends with this batch: it commits without the flush, at once.
    let mut b = g.submit(t, now(), person_events(2), vec![], folding(2, Commit::Lazy)).await.unwrap();
    assert_eq!(committed_soon(&mut b).await, Some(2), "a lazy batch commits without waiting for another");
    assert_eq!(a.committed().await.unwrap().len(), 2);
    assert_eq!(queries::stats(db, t).await.unwrap().persons, 2);
    // The next transaction of the import begins open again (on SQLite).
    let mut c = g.submit(t, now(), person_events(3), vec![], folding(3, Commit::Open)).await.unwrap();
    c.when_taken().await;
    if sqlite {
        assert!(c.try_committed().is_none());
        assert_eq!(queries::stats(db, t).await.unwrap().persons, 2);
    }
    let mut d = g.submit(t, now(), person_events(4), vec![], folding(4, Commit::Lazy)).await.unwrap();
    assert_eq!(committed_soon(&mut d).await, Some(2));
    assert_eq!(c.committed().await.unwrap().len(), 2);
    assert_eq!(verify(db, t).await.unwrap(), 4);
});

/// An import's progress row, reaching `rows` after `after`.
fn progress(after: i64, rows: i64) -> Vec<SideWrite> {
    vec![SideWrite::ImportProgress {
        id: "import-1".into(),
        file_sha256: "f".repeat(64),
        format: "mailchimp".into(),
        state: "running".into(),
        rows_done: rows,
        report: "{}".into(),
        after,
    }]
}

/// The rows the stored import progress counts as done, if any is stored.
async fn rows_done(db: &konsent_store::Db) -> Option<i64> {
    let row = db.fetch_optional("SELECT rows_done FROM imports", vec![]).await.unwrap();
    row.map(|r| r.i64(0).unwrap())
}

/// A writer that has stored person 1 and holds an import transaction open with person 2's
/// batch (rows 0 to 10), taken but not committed.
async fn person_1_stored_and_an_import_of_person_2_open(
    db: &konsent_store::Db,
    t: konsent_domain::ids::TenantId,
) -> (GroupCommit, Submitted) {
    let g = writer(db);
    g.append(t, now(), person_events(1), vec![]).await.unwrap();
    let mut a = g.submit(t, now(), person_events(2), progress(0, 10), folding(1, Commit::Open)).await.unwrap();
    a.when_taken().await;
    (g, a)
}

both_engines!(an_import_batch_handed_on_after_one_that_failed_is_refused, |db| {
    let t = tenant(14);
    let (g, a) = person_1_stored_and_an_import_of_person_2_open(db, t).await;
    // The second batch fails (person 1 again) and takes the first back with it; the import has
    // already handed on the third, planned on what the first two would have created.
    let again = vec![ev(9_000, person_events(1).remove(0).body)];
    let mut b = g.submit(t, now(), again, progress(10, 20), folding(2, Commit::Open)).await.unwrap();
    let c = g.submit(t, now(), person_events(3), progress(20, 30), folding(3, Commit::Lazy)).await.unwrap();
    b.when_taken().await;
    let c = c.committed().await.unwrap_err().to_string();
    assert!(c.contains("did not commit"), "{c}");
    assert!(b.committed().await.is_err());
    if db.engine() == Engine::Sqlite {
        // The first batch went back with the second, in their open transaction.
        assert!(a.committed().await.is_err());
        assert_eq!(queries::stats(db, t).await.unwrap().persons, 1, "no batch after the failed one landed");
        assert_eq!(rows_done(db).await, None, "no progress stored past rows that were rolled back");
        g.append(t, now(), person_events(2), progress(0, 10)).await.unwrap();
    } else {
        // PostgreSQL committed the first on its own.
        assert!(a.committed().await.is_ok());
    }
    assert_eq!(rows_done(db).await, Some(10));
    // Resumed from the stored progress, the batches land in order.
    assert!(g.append(t, now(), person_events(4), progress(20, 30)).await.is_err(), "a gap is refused");
    g.append(t, now(), person_events(3), progress(10, 20)).await.unwrap();
    assert_eq!(queries::stats(db, t).await.unwrap().persons, 3);
});

both_engines!(contact_points_of_an_open_import_transaction_are_there_for_every_later_read_and_after_the_commit, |db| {
    let t = tenant(15);
    let g = writer(db);
    let mut a =
        g.submit(t, now(), (1..=3).flat_map(person_events).collect(), vec![], folding(1, Commit::Open)).await.unwrap();
    a.when_taken().await;
    // A later batch of the same transaction verifies person 2's contact point: finding its
    // person and marking it verified both read the contact point the first batch added.
    let (person2, cp2) = ids_of(2);
    let verified =
        ev(9_100, EventBody::ContactPointVerified { contact_point_id: cp2, method: "doi_confirmed".into(), at: now() });
    let mut second: Vec<PendingEvent> = vec![verified];
    second.extend((4..=5).flat_map(person_events));
    let mut b = g.submit(t, now(), second, vec![], folding(2, Commit::Open)).await.unwrap();
    b.when_taken().await;
    let c = g.submit(t, now(), (6..=7).flat_map(person_events).collect(), vec![], folding(3, Commit::Durable));
    assert_eq!(c.await.unwrap().committed().await.unwrap().len(), 4);
    assert_eq!(a.committed().await.unwrap().len(), 6);
    assert_eq!(b.committed().await.unwrap().len(), 5);
    for n in 1..=7u64 {
        let found = queries::persons_by_blind_index(db, t, &format!("bi{n}")).await.unwrap();
        assert_eq!(found, vec![(ids_of(n).0, ids_of(n).1)], "person {n} found by its contact point");
    }
    let points = queries::contact_points(db, t, person2).await.unwrap();
    assert_eq!(points.len(), 1);
    assert_eq!(points[0].verified_method.as_deref(), Some("doi_confirmed"));
    assert_eq!(points[0].verified_at, Some(now()));
    let entries = ledger::person_entries(db, t, &person2).await.unwrap();
    assert_eq!(entries.len(), 2, "the first batch's entry and the verification, found as person 2's");
    assert_eq!(verify(db, t).await.unwrap(), 4, "three batch entries and the verification");
});

both_engines!(a_contact_point_of_an_open_import_transaction_that_cannot_be_written_fails_the_transaction, |db| {
    let t = tenant(16);
    let (g, a) = person_1_stored_and_an_import_of_person_2_open(db, t).await;
    // A new person whose contact point has the id of person 2's: the row cannot be stored.
    let mut clash = person_events(3);
    if let EventBody::ContactPointAdded { contact_point_id, .. } = &mut clash[1].body {
        *contact_point_id = ids_of(2).1;
    }
    let mut b = g.submit(t, now(), clash, progress(10, 20), folding(2, Commit::Open)).await.unwrap();
    b.when_taken().await;
    let c = g.submit(t, now(), person_events(4), progress(20, 30), folding(3, Commit::Lazy)).await.unwrap();
    let c = c.committed().await;
    assert!(b.committed().await.is_err(), "the clashing batch is not committed");
    if db.engine() == Engine::Sqlite {
        // The three batches shared the transaction; it went back whole.
        assert!(a.committed().await.is_err());
        assert!(c.is_err());
        assert_eq!(queries::stats(db, t).await.unwrap().persons, 1, "nothing of the import stayed");
        assert_eq!(rows_done(db).await, None, "no progress stored past rows that were rolled back");
        assert!(queries::persons_by_blind_index(db, t, "bi2").await.unwrap().is_empty());
    } else {
        // PostgreSQL commits each batch on its own; the one after the failure is refused.
        assert_eq!(a.committed().await.unwrap().len(), 2);
        assert!(c.is_err());
        assert_eq!(queries::stats(db, t).await.unwrap().persons, 2);
        assert_eq!(rows_done(db).await, Some(10));
    }
    // The chain goes on from where it was.
    let head = verify(db, t).await.unwrap();
    g.append(t, now(), person_events(5), vec![]).await.unwrap();
    assert_eq!(verify(db, t).await.unwrap(), head + 2);
});
