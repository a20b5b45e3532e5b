//! The proof package (R27): `konsent evidence` and `POST /v1/evidence` produce one ZIP with the
//! German report (PDF), the same content as ISO/IEC TS 27560 JSON, the original evidence files,
//! the ledger entries with Merkle paths and the signed checkpoints, and a signed manifest;
//! `verify-package` checks it offline with only the public key. Producing one is audited.

pub mod access;
mod gather;
mod iso;
mod report;

use std::io::Write;

use jiff::Timestamp;
use konsent_domain::attachment::{AttachmentKind, AttachmentMeta};
use konsent_domain::contact::{ContactValue, EmailAddress, PhoneE164};
use konsent_domain::crypto::sha256_hex;
use konsent_domain::ids::{EventId, PersonId, TenantId};
use konsent_domain::ledger::{Actor, EventBody};
use konsent_domain::proof::{FORMAT, Manifest, ManifestFile, Subject, paths, sign_manifest};
use konsent_store::queries;

use crate::context::Konsent;
use crate::error::ServiceError;

/// What a package is produced for.
#[derive(Debug, Clone)]
pub enum ProofSubject {
    /// Everyone with this phone number.
    Phone(String),
    /// Everyone with this e-mail address.
    Email(String),
    /// One person.
    Person(PersonId),
}

/// A produced package.
#[derive(Debug, Clone)]
pub struct ProofPackage {
    /// The ZIP file.
    pub zip: Vec<u8>,
    /// Package id.
    pub package_id: String,
    /// Persons covered.
    pub persons: Vec<PersonId>,
    /// Ledger entries included.
    pub entries: usize,
    /// Evidence files included.
    pub attachments: usize,
    /// SHA-256 of the signed manifest.
    pub manifest_sha256: String,
    /// Where the time went, in milliseconds: gathering (store reads, proofs), the PDF, the rest
    /// (JSON, ZIP, signature), the audit entry.
    pub timings_ms: [f64; 4],
}

/// Where an evidence file lies in the package.
pub(crate) fn attachment_path(m: &AttachmentMeta) -> String {
    format!("{}{}.{}", paths::ATTACHMENTS, m.sha256, AttachmentKind::extension(&m.content_type))
}

const README: &str = "Einwilligungsnachweis (Konsent) / consent proof package\n\n\
nachweis.pdf            Bericht für Menschen (deutsch) / report for humans (German)\n\
proof.json              derselbe Inhalt maschinenlesbar, Feldnamen nach ISO/IEC TS 27560 / same content, ISO 27560 names\n\
attachments/            Originaldateien (Aufzeichnungen, Scans), benannt nach SHA-256 / original evidence files\n\
ledger/entries.jsonl    Ledger-Einträge im Original mit Merkle-Pfad; bei einem Sammeleintrag (Import) nur der\n\
                        Datensatz dieser Person mit seinem Pfad zur Wurzel im Eintrag / ledger entries with\n\
                        audit paths; for a batch entry (an import) only this person's record with its path\n\
                        to the root the entry holds\n\
ledger/checkpoints.json signierte Checkpoints (Ed25519) / signed checkpoints\n\
manifest.json           SHA-256 jeder Datei / hash of every file\n\
manifest.sig            Ed25519-Signatur des Manifests / signature of the manifest\n\n\
Prüfen / verify:  konsent verify-package <datei.zip> --public-key <hex>\n\
Der öffentliche Schlüssel steht in manifest.json; vergleichen Sie ihn mit dem veröffentlichten Schlüssel\n\
des Betreibers (konsent status). / Compare the key in manifest.json with the operator's published key.\n";

impl Konsent {
    /// The persons a subject names (a number may belong to several persons).
    pub async fn proof_persons(&self, tenant: TenantId, subject: &ProofSubject) -> Result<Vec<PersonId>, ServiceError> {
        let value = match subject {
            ProofSubject::Person(p) => {
                queries::person(&self.db, tenant, *p)
                    .await?
                    .ok_or_else(|| ServiceError::NotFound(format!("person {p}")))?;
                return Ok(vec![*p]);
            }
            ProofSubject::Phone(raw) => {
                ContactValue::Phone(PhoneE164::parse(raw).map_err(|e| ServiceError::invalid("phone", e))?)
            }
            ProofSubject::Email(raw) => {
                ContactValue::Email(EmailAddress::parse(raw).map_err(|e| ServiceError::invalid("email", e))?)
            }
        };
        let mut persons: Vec<PersonId> =
            self.find_by_contact(tenant, &value).await?.into_iter().map(|(p, _)| p).collect();
        persons.sort();
        persons.dedup();
        if persons.is_empty() {
            return Err(ServiceError::NotFound("a person with this contact point".into()));
        }
        Ok(persons)
    }

    /// Produces the proof package for `subject`; uses outside `range` are left out.
    pub async fn evidence_package(
        &self,
        tenant: TenantId,
        actor: &Actor,
        subject: ProofSubject,
        range: Option<(Timestamp, Timestamp)>,
    ) -> Result<ProofPackage, ServiceError> {
        if let Some((from, to)) = range
            && from > to
        {
            return Err(ServiceError::invalid("from", "liegt nach dem Ende (to) / lies after to"));
        }
        let started = std::time::Instant::now();
        let ms = |t: std::time::Instant| t.elapsed().as_secs_f64() * 1000.0;
        let persons = self.proof_persons(tenant, &subject).await?;
        let g = self.gather_proof(tenant, &persons, range).await?;
        let gathered = ms(started);
        let t = std::time::Instant::now();
        let now = self.now();
        let package_id = format!("KN-{}", &self.id(EventId::from_parts).to_string()[..23]);
        let public_key = hex::encode(self.keys.public().to_bytes());

        let mut files: Vec<(String, Vec<u8>)> = Vec::new();
        files.push((paths::README.into(), README.as_bytes().to_vec()));
        let pdf = konsent_pdf::render(&report::report(&g, &package_id, now, &public_key))
            .map_err(|e| ServiceError::Conflict(format!("the report could not be typeset: {e}")))?;
        files.push((paths::REPORT.into(), pdf));
        let rendered = ms(t);
        let t = std::time::Instant::now();
        let json = iso::proof_json(&g, &package_id, now);
        files.push((
            paths::PROOF.into(),
            serde_json::to_vec_pretty(&json).map_err(|e| ServiceError::Conflict(e.to_string()))?,
        ));
        let mut lines = Vec::new();
        let mut entries = 0;
        for p in &g.persons {
            // A batch entry holds several of a person's events: its line is written once.
            let mut last = None;
            for e in &p.entries {
                if last == Some(e.raw.seq) {
                    continue;
                }
                last = Some(e.raw.seq);
                serde_json::to_writer(&mut lines, &e.raw).map_err(|e| ServiceError::Conflict(e.to_string()))?;
                lines.push(b'\n');
                entries += 1;
            }
        }
        files.push((paths::ENTRIES.into(), lines));
        files.push((
            paths::CHECKPOINTS.into(),
            serde_json::to_vec_pretty(&g.checkpoints).map_err(|e| ServiceError::Conflict(e.to_string()))?,
        ));
        let mut attachments = 0;
        for (meta, bytes) in g.persons.iter().flat_map(|p| &p.files) {
            files.push((attachment_path(meta), bytes.clone()));
            attachments += 1;
        }
        let manifest = Manifest {
            format: FORMAT.into(),
            package_id: package_id.clone(),
            tenant: tenant.to_string(),
            generated_at: now.to_string(),
            subject: Subject {
                kind: match subject {
                    ProofSubject::Phone(_) => "phone",
                    ProofSubject::Email(_) => "email",
                    ProofSubject::Person(_) => "person",
                }
                .into(),
                persons: persons.iter().map(|p| p.to_string()).collect(),
            },
            range: range.map(|(a, b)| (a.to_string(), b.to_string())),
            public_key,
            files: files
                .iter()
                .map(|(path, b)| ManifestFile { path: path.clone(), sha256: sha256_hex(b), size: b.len() as u64 })
                .collect(),
        };
        let manifest_bytes = serde_json::to_vec_pretty(&manifest).map_err(|e| ServiceError::Conflict(e.to_string()))?;
        let signature = sign_manifest(self.keys.signing(), &manifest_bytes);
        let manifest_sha256 = sha256_hex(&manifest_bytes);
        files.insert(0, (paths::SIGNATURE.into(), signature.into_bytes()));
        files.insert(0, (paths::MANIFEST.into(), manifest_bytes));
        let zip = write_zip(&files)?;
        let packed = ms(t);
        let t = std::time::Instant::now();

        // Audit: the production, and each evidence file read for it.
        let mut events = Vec::new();
        for p in &g.persons {
            let body =
                EventBody::ProofExported { person_id: p.person_id, manifest_sha256: manifest_sha256.clone(), at: now };
            events.push(self.pending(actor, body));
            for (m, _) in &p.files {
                let body = EventBody::AttachmentRead {
                    person_id: p.person_id,
                    sha256: m.sha256.clone(),
                    purpose: format!("proof_package {package_id}"),
                };
                events.push(self.pending(actor, body));
            }
        }
        self.append(tenant, events, vec![]).await?;
        let timings_ms = [gathered, rendered, packed, ms(t)];
        tracing::info!(package = %package_id, persons = persons.len(), entries, attachments, ?timings_ms, "proof package produced");
        Ok(ProofPackage { zip, package_id, persons, entries, attachments, manifest_sha256, timings_ms })
    }
}

pub(crate) fn write_zip(files: &[(String, Vec<u8>)]) -> Result<Vec<u8>, ServiceError> {
    let err = |e: &dyn std::fmt::Display| ServiceError::Conflict(format!("the package could not be written: {e}"));
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for (path, bytes) in files {
        // Recordings and PDFs are compressed already; storing them keeps packaging fast.
        let method = if path.ends_with(".json") || path.ends_with(".jsonl") || path.ends_with(".txt") {
            zip::CompressionMethod::Deflated
        } else {
            zip::CompressionMethod::Stored
        };
        let opts = zip::write::SimpleFileOptions::default().compression_method(method);
        w.start_file(path.as_str(), opts).map_err(|e| err(&e))?;
        w.write_all(bytes).map_err(|e| err(&e))?;
    }
    Ok(w.finish().map_err(|e| err(&e))?.into_inner())
}

/// Typesets an empty report once, so the first proof package of a server does not pay for
/// loading the fonts (about 150–250 ms); call it from a blocking task at start.
pub fn warm_up() {
    if let Err(e) = konsent_pdf::render(&konsent_pdf::Report { lang: "de".into(), ..Default::default() }) {
        tracing::warn!(error = %e, "PDF warm-up failed");
    }
}

/// Reads a package ZIP into path → bytes (for `verify-package`); refuses oversized or odd entries.
pub fn read_package(zip_bytes: &[u8]) -> Result<std::collections::BTreeMap<String, Vec<u8>>, ServiceError> {
    use std::io::Read;
    let bad = |e: &dyn std::fmt::Display| {
        ServiceError::invalid("package", format!("kein lesbares Nachweispaket / not a readable proof package: {e}"))
    };
    let mut z = zip::ZipArchive::new(std::io::Cursor::new(zip_bytes)).map_err(|e| bad(&e))?;
    let mut out = std::collections::BTreeMap::new();
    let mut total: u64 = 0;
    for i in 0..z.len() {
        let mut f = z.by_index(i).map_err(|e| bad(&e))?;
        if f.is_dir() {
            continue;
        }
        let name = f.enclosed_name().ok_or_else(|| bad(&"an entry has an unsafe path"))?.to_string_lossy().to_string();
        total += f.size();
        if total > 4 << 30 {
            return Err(bad(&"it unpacks to more than 4 GiB"));
        }
        let mut buf = Vec::with_capacity(f.size() as usize);
        f.read_to_end(&mut buf).map_err(|e| bad(&e))?;
        out.insert(name, buf);
    }
    Ok(out)
}
