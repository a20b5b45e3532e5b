//! Offline verification of a proof package: the manifest's signature, every file's hash, every
//! ledger entry's hash and Merkle path up to a signed checkpoint, and that the report's facts
//! (consent texts, events, uses, evidence files) are the ones the ledger holds.

use std::collections::{BTreeMap, BTreeSet};

use ed25519_dalek::VerifyingKey;
use serde::Serialize;
use serde_json::Value;

use super::{Checkpoints, Manifest, ProvenEntry, manifest_signed_by, paths};
use crate::consent::Evidence;
use crate::crypto::sha256_hex;
use crate::ledger::{Entry, EventBody, Record, entry_hash, hash32, merkle, proves as batch_proves};
use crate::text::body_sha256;

/// One check and its result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Check {
    /// Stable name, e.g. `manifest_signature`.
    pub name: &'static str,
    /// Passed.
    pub ok: bool,
    /// What was checked or what is wrong (German, then English).
    pub detail: String,
}

/// The result of verifying a package.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VerifyOutcome {
    /// Every check in order.
    pub checks: Vec<Check>,
}

impl VerifyOutcome {
    /// True when every check passed.
    pub fn ok(&self) -> bool {
        !self.checks.is_empty() && self.checks.iter().all(|c| c.ok)
    }
}

struct Checks(Vec<Check>);

impl Checks {
    fn push(&mut self, name: &'static str, result: Result<String, String>) -> bool {
        let ok = result.is_ok();
        self.0.push(Check { name, ok, detail: result.unwrap_or_else(|e| e) });
        ok
    }
}

/// Verifies a package given as path → bytes with the trusted public key.
pub fn verify_package(files: &BTreeMap<String, Vec<u8>>, trusted: &VerifyingKey) -> VerifyOutcome {
    let mut c = Checks(Vec::new());
    let manifest = check_manifest(files, trusted);
    let manifest_ok = c.push("manifest_signature", manifest.as_ref().map(|_| sig_ok(trusted)).map_err(Clone::clone));
    let Ok(manifest) = manifest else { return VerifyOutcome { checks: c.0 } };
    c.push("files", check_files(files, &manifest));
    let entries = check_ledger(files, &manifest, trusted);
    let ledger_ok = c.push("ledger", entries.as_ref().map(|(n, _)| n.clone()).map_err(Clone::clone));
    if let (true, Ok((_, entries))) = (ledger_ok && manifest_ok, entries) {
        c.push("proof_json", check_proof(files, &entries));
        c.push("attachments", check_attachments(files, &entries));
    }
    VerifyOutcome { checks: c.0 }
}

fn sig_ok(trusted: &VerifyingKey) -> String {
    format!(
        "Manifest mit dem öffentlichen Schlüssel {} signiert / manifest signed by that key",
        hex::encode(trusted.to_bytes())
    )
}

fn check_manifest(files: &BTreeMap<String, Vec<u8>>, trusted: &VerifyingKey) -> Result<Manifest, String> {
    let (Some(m), Some(sig)) = (files.get(paths::MANIFEST), files.get(paths::SIGNATURE)) else {
        return Err("manifest.json oder manifest.sig fehlt / missing manifest or signature".into());
    };
    if !manifest_signed_by(trusted, m, &String::from_utf8_lossy(sig)) {
        return Err("Signatur des Manifests ungültig oder von einem anderen Schlüssel / manifest signature invalid \
                    or made by another key"
            .into());
    }
    serde_json::from_slice(m).map_err(|e| format!("manifest.json unlesbar / unreadable: {e}"))
}

fn check_files(files: &BTreeMap<String, Vec<u8>>, manifest: &Manifest) -> Result<String, String> {
    let mut listed = BTreeSet::new();
    for f in &manifest.files {
        let Some(bytes) = files.get(&f.path) else {
            return Err(format!("{} fehlt / is missing", f.path));
        };
        if sha256_hex(bytes) != f.sha256 || bytes.len() as u64 != f.size {
            return Err(format!("{} wurde verändert (Hash weicht ab) / was changed (hash differs)", f.path));
        }
        listed.insert(f.path.as_str());
    }
    if let Some(extra) =
        files.keys().find(|p| !listed.contains(p.as_str()) && *p != paths::MANIFEST && *p != paths::SIGNATURE)
    {
        return Err(format!("{extra} steht nicht im Manifest / is not in the manifest"));
    }
    Ok(format!("{} Dateien, jede mit passendem SHA-256 / files, each with matching SHA-256", listed.len()))
}

fn check_ledger(
    files: &BTreeMap<String, Vec<u8>>,
    manifest: &Manifest,
    trusted: &VerifyingKey,
) -> Result<(String, Vec<(ProvenEntry, Entry)>), String> {
    let cps: Checkpoints = files
        .get(paths::CHECKPOINTS)
        .map(|b| serde_json::from_slice(b))
        .transpose()
        .map_err(|e| format!("checkpoints.json unlesbar / unreadable: {e}"))?
        .ok_or("ledger/checkpoints.json fehlt / is missing")?;
    for cp in &cps {
        if cp.tenant.to_string() != manifest.tenant || !cp.verify_signature(trusted) || cp.root_bytes().is_none() {
            return Err(format!("Checkpoint {} nicht gültig signiert / checkpoint not validly signed", cp.seq));
        }
    }
    let text = files.get(paths::ENTRIES).ok_or("ledger/entries.jsonl fehlt / is missing")?;
    let mut out = Vec::new();
    for (i, line) in String::from_utf8_lossy(text).lines().enumerate() {
        let row = i + 1;
        let p: ProvenEntry =
            serde_json::from_str(line).map_err(|e| format!("Zeile {row} unlesbar / line unreadable: {e}"))?;
        let bad = |what: &str| format!("Eintrag {} (Zeile {row}): {what}", p.seq);
        let (Some(prev), Some(hash)) = (hash32(&p.prev_hash), hash32(&p.hash)) else {
            return Err(bad("Hash fehlerhaft / malformed hash"));
        };
        if entry_hash(&prev, p.payload.as_bytes()) != hash {
            return Err(bad("Hash passt nicht zum Inhalt / hash does not match the payload"));
        }
        let e = Entry::decode(p.payload.as_bytes()).map_err(|_| bad("Inhalt unlesbar / payload unreadable"))?;
        if e.seq != p.seq || e.tenant.to_string() != manifest.tenant {
            return Err(bad("gehört an eine andere Stelle / belongs elsewhere"));
        }
        let cp = cps
            .iter()
            .find(|c| c.seq == p.checkpoint_seq && c.covers(p.seq))
            .ok_or_else(|| bad("kein Checkpoint versiegelt ihn / no checkpoint seals it"))?;
        let path: Option<Vec<[u8; 32]>> = p.audit_path.iter().map(|h| hash32(h)).collect();
        let size = (cp.seq - cp.from_seq + 1) as usize;
        let root = path.and_then(|path| merkle::root_from_path(&hash, (p.seq - cp.from_seq) as usize, size, &path));
        if root.is_none() || root != cp.root_bytes() {
            return Err(bad(
                "Merkle-Pfad führt nicht zur signierten Wurzel / audit path does not reach the signed root",
            ));
        }
        match (e.body.batch_root(), &p.record) {
            (None, None) => out.push((p, e)),
            (Some(root), Some(r)) => {
                let path: Option<Vec<[u8; 32]>> = r.path.iter().map(|h| hash32(h)).collect();
                let (index, count) = (r.index as usize, r.count as usize);
                if !path.is_some_and(|path| batch_proves(r.record.as_bytes(), index, count, &path, &root)) {
                    return Err(bad(
                        "Datensatz gehört nicht zum Sammeleintrag / record is not part of the batch entry",
                    ));
                }
                let record =
                    Record::decode(r.record.as_bytes()).map_err(|_| bad("Datensatz unlesbar / record unreadable"))?;
                for sub in record.entries(&e) {
                    out.push((p.clone(), sub));
                }
            }
            _ => return Err(bad("Sammeleintrag ohne Datensatz / batch entry without its record")),
        }
    }
    if out.is_empty() {
        return Err("keine Ledger-Einträge / no ledger entries".into());
    }
    Ok((
        format!(
            "{} Einträge, jeder mit Hash und Merkle-Pfad bis zu einem von {} signierten Checkpoints / entries, \
             each proven to a signed checkpoint",
            out.len(),
            cps.len()
        ),
        out,
    ))
}

fn check_proof(files: &BTreeMap<String, Vec<u8>>, entries: &[(ProvenEntry, Entry)]) -> Result<String, String> {
    let proof: Value = files
        .get(paths::PROOF)
        .map(|b| serde_json::from_slice(b))
        .transpose()
        .map_err(|e| format!("proof.json unlesbar / unreadable: {e}"))?
        .ok_or("proof.json fehlt / is missing")?;
    let hashes: BTreeSet<&str> = entries.iter().map(|(p, _)| p.hash.as_str()).collect();
    let recorded: BTreeMap<String, String> = entries
        .iter()
        .filter_map(|(_, e)| match &e.body {
            EventBody::ConsentRecorded { consent } => Some((consent.id.to_string(), consent.text_sha256.clone())),
            _ => None,
        })
        .collect();
    let records = proof["records"].as_array().ok_or("proof.json ohne records / has no records")?;
    let mut events = 0;
    for r in records {
        let id = r["record_id"].as_str().unwrap_or_default();
        let text_hash =
            recorded.get(id).ok_or_else(|| format!("Einwilligung {id} fehlt im Ledger / not in the ledger"))?;
        let body = r["consent_text"]["body"].as_str().unwrap_or_default();
        if &body_sha256(body) != text_hash || r["consent_text"]["text_hash"].as_str() != Some(text_hash.as_str()) {
            return Err(format!(
                "Einwilligungstext von {id} ist nicht der erfasste / consent text is not the one recorded"
            ));
        }
        for ev in r["events"].as_array().into_iter().flatten() {
            let h = ev["event_hash"].as_str().unwrap_or_default();
            if !hashes.contains(h) {
                return Err(format!("Ereignis {h} von {id} fehlt im Ledger / event not in the ledger"));
            }
            events += 1;
        }
    }
    let mut uses = 0;
    for u in proof["use_log"].as_array().into_iter().flatten() {
        if !hashes.contains(u["hash"].as_str().unwrap_or_default()) {
            return Err("eine Nutzung fehlt im Ledger / a use is not in the ledger".into());
        }
        uses += 1;
    }
    Ok(format!(
        "{} Einwilligungen mit Text, {events} Ereignisse und {uses} Nutzungen stimmen mit dem Ledger überein / \
         records, events and uses match the ledger",
        records.len()
    ))
}

fn check_attachments(files: &BTreeMap<String, Vec<u8>>, entries: &[(ProvenEntry, Entry)]) -> Result<String, String> {
    let mut named = BTreeSet::new();
    for (_, e) in entries {
        let evidence: Vec<&Evidence> = match &e.body {
            EventBody::ConsentRecorded { consent } => consent.evidence.iter().collect(),
            EventBody::EvidenceAdded { evidence, .. } => vec![evidence],
            _ => vec![],
        };
        for ev in evidence {
            match ev {
                Evidence::CallRecording { recording_hash: h, .. } | Evidence::PaperScan { scan_hash: h, .. } => {
                    named.insert(h.to_ascii_lowercase());
                }
                _ => {}
            }
        }
    }
    for h in &named {
        let found = files
            .iter()
            .find(|(p, _)| p.strip_prefix(paths::ATTACHMENTS).is_some_and(|n| n.split('.').next() == Some(h.as_str())));
        match found {
            Some((_, bytes)) if &sha256_hex(bytes) == h => {}
            Some(_) => return Err(format!("Datei {h} hat einen anderen Inhalt / file has other content")),
            None => return Err(format!("Nachweisdatei {h} fehlt / evidence file is missing")),
        }
    }
    Ok(format!("{} Nachweisdateien, jede mit dem im Ledger erfassten SHA-256 / evidence files match", named.len()))
}
