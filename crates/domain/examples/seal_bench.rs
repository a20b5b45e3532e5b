//! What sealing costs an imported person: `cargo run --release -p konsent-domain --example
//! seal_bench [N]`. Per row a fresh data key is wrapped under the master key and seals the
//! person's data (200 bytes) and a contact value (100 bytes), as an import does. The workspace
//! builds Poly1305 in portable code (.cargo/config.toml); `RUSTFLAGS= cargo run …` builds the
//! crate's default (AVX2 on this machine kind) to compare.

use std::time::Instant;

use konsent_domain::crypto::{DataKey, MasterKey, NONCE_LEN};

fn main() {
    let n: u64 = std::env::args().nth(1).and_then(|s| s.parse().ok()).unwrap_or(1_000_000);
    let master = MasterKey::from_bytes([3; 32]);
    let data = [7u8; 200];
    let value = [9u8; 100];
    let mut bytes = 0usize;
    let started = Instant::now();
    for i in 0..n {
        let mut k = [0u8; 32];
        k[..8].copy_from_slice(&i.to_le_bytes());
        let nonce = [i as u8; NONCE_LEN];
        let key = DataKey::from_bytes(k);
        bytes += master.wrap(&key, nonce, b"tenant/person").len();
        bytes += key.seal(nonce, &data, b"tenant/person").len();
        bytes += key.seal(nonce, &value, b"tenant/contact").len();
    }
    let took = started.elapsed();
    println!(
        "{n} rows, 3 seals each ({bytes} bytes sealed): {:.2} s, {:.2} µs a row",
        took.as_secs_f64(),
        took.as_secs_f64() * 1e6 / n as f64
    );
}
