//! `konsent serve` as a newcomer starts it: initialises itself, answers /healthz and /readyz,
//! stops cleanly on SIGTERM.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::Duration;

fn get(addr: &str, path: &str) -> (u16, String) {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(s, "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    let code = out.split_whitespace().nth(1).and_then(|c| c.parse().ok()).unwrap_or(0);
    (code, out)
}

#[test]
fn serve_initialises_on_first_start_and_answers_health_checks() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("fresh");
    let mut child = Command::new(env!("CARGO_BIN_EXE_konsent"))
        .arg("--data-dir")
        .arg(&data)
        .args(["serve", "--bind", "127.0.0.1:0"])
        .env_remove("KONSENT_DATABASE_URL")
        .env("KONSENT_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut printed = String::new();
    let addr = loop {
        let line = lines.next().expect("serve prints its address").unwrap();
        printed.push_str(&line);
        printed.push('\n');
        if let Some(rest) = line.split("http://").nth(1) {
            break rest.split_whitespace().next().unwrap().to_string();
        }
    };
    assert!(printed.contains("knst_"), "first start prints the admin API key: {printed}");
    assert!(data.join("installation.json").exists());
    let (code, body) = get(&addr, "/healthz");
    assert_eq!(code, 200, "{body}");
    assert!(body.to_lowercase().contains("x-request-id"), "{body}");
    let (code, body) = get(&addr, "/readyz");
    assert_eq!(code, 200, "{body}");
    assert!(body.contains("\"ready\""), "{body}");
    let (code, _) = get(&addr, "/nope");
    assert_eq!(code, 404);

    #[cfg(unix)]
    {
        let _ = Command::new("kill").arg("-TERM").arg(child.id().to_string()).status();
        let status = child.wait().unwrap();
        assert!(status.success(), "graceful shutdown exits 0, got {status}");
    }
    #[cfg(not(unix))]
    child.kill().unwrap();
}
