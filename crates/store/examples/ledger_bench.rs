//! Ledger append benchmark: `cargo run --release -p konsent-store --example ledger_bench -- URL N BATCH [TASKS]`.
//! Appends N `ContactPointVerified`-sized events to one tenant's chain, BATCH events per durable
//! transaction, from TASKS concurrent tasks, then verifies the chain and prints both rates.

use std::time::Instant;

use jiff::Timestamp;
use konsent_domain::ids::{ContactPointId, EventId, TenantId};
use konsent_domain::ledger::{Actor, ChainVerifier, EventBody};
use konsent_store::{Db, PendingEvent, ledger, migrate};

#[tokio::main]
#[expect(clippy::disallowed_methods, reason = "a benchmark uses the wall clock")]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let url = args.get(1).expect("usage: ledger_bench URL N BATCH [TASKS]").clone();
    let n: u64 = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(100_000);
    let batch: u64 = args.get(3).and_then(|s| s.parse().ok()).unwrap_or(1000);
    let tasks: u64 = args.get(4).and_then(|s| s.parse().ok()).unwrap_or(1);
    let db = Db::connect(&url, 16).await.expect("connect");
    migrate::migrate(&db, 0).await.expect("migrate");
    let tenant = TenantId::from_parts(Timestamp::now().as_millisecond() as u64, rand10(0));
    let started = Instant::now();
    let per_task = n / tasks;
    let mut handles = Vec::new();
    for t in 0..tasks {
        let db = db.clone();
        handles.push(tokio::spawn(async move {
            let mut i = 0;
            while i < per_task {
                let k = batch.min(per_task - i);
                let events = (0..k)
                    .map(|j| {
                        let x = t * 1_000_000_000 + i + j;
                        PendingEvent {
                            event_id: EventId::from_parts(x, rand10(x)),
                            actor: Actor::System,
                            body: EventBody::ContactPointVerified {
                                contact_point_id: ContactPointId::from_parts(x, rand10(x)),
                                method: "otp".into(),
                                at: Timestamp::now(),
                            },
                        }
                    })
                    .collect();
                ledger::append(&db, tenant, Timestamp::now(), events, vec![]).await.expect("append");
                i += k;
            }
        }));
    }
    for h in handles {
        h.await.expect("task");
    }
    let secs = started.elapsed().as_secs_f64();
    let total = per_task * tasks;
    println!(
        "append: {total} events, batch {batch}, {tasks} task(s): {secs:.2} s = {:.0} events/s",
        total as f64 / secs
    );
    let started = Instant::now();
    let mut v = ChainVerifier::new(tenant);
    ledger::for_each_row(&db, tenant, 1, u64::MAX, |s, p, pr, h, r| v.feed(s, p, pr, h, r))
        .await
        .expect("read")
        .expect("intact");
    let secs = started.elapsed().as_secs_f64();
    println!("verify: {} entries: {secs:.2} s = {:.0} entries/s", v.head().0, v.head().0 as f64 / secs);
    for parts in [2u64, 4] {
        let started = Instant::now();
        let head = v.head().0;
        let len = head.div_ceil(parts);
        let hs: Vec<_> = (0..parts)
            .map(|i| {
                let db = db.clone();
                tokio::spawn(async move {
                    let from = 1 + i * len;
                    let mut v = ChainVerifier::segment(tenant, from, None);
                    ledger::for_each_row(&db, tenant, from, (from + len - 1).min(head), |s, p, pr, h, r| {
                        v.feed(s, p, pr, h, r)
                    })
                    .await
                    .expect("read")
                    .expect("intact");
                    v.head().0
                })
            })
            .collect();
        for h in hs {
            h.await.expect("task");
        }
        let secs = started.elapsed().as_secs_f64();
        println!("verify in {parts} segments: {secs:.2} s = {:.0} entries/s", head as f64 / secs);
    }
}

fn rand10(x: u64) -> [u8; 10] {
    let mut r = [0u8; 10];
    r[..8].copy_from_slice(&x.wrapping_mul(0x9E37_79B9_7F4A_7C15).to_le_bytes());
    r
}
