//! Evidence files (call recordings, scans of signed forms): what kinds exist, which content types
//! each accepts (sniffed from the bytes, never trusted from the client) and how large they may be.

use serde::{Deserialize, Serialize};

use crate::crypto::sha256_hex;

/// What an evidence file is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AttachmentKind {
    /// Audio recording of a call (consent to record and the consent statement, R17 a).
    Recording,
    /// Scan of a signed paper form (R18).
    Scan,
}

impl AttachmentKind {
    /// Stable code.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Recording => "recording",
            Self::Scan => "scan",
        }
    }

    /// German label.
    pub fn label_de(self) -> &'static str {
        match self {
            Self::Recording => "Gesprächsaufzeichnung",
            Self::Scan => "Scan des unterschriebenen Formulars",
        }
    }

    /// Content types accepted for this kind (as sniffed from the bytes).
    pub fn accepted(self) -> &'static [&'static str] {
        match self {
            Self::Recording => &[
                "audio/mpeg",
                "audio/x-wav",
                "audio/ogg",
                "audio/opus",
                "audio/x-flac",
                "audio/m4a",
                "audio/aac",
                "audio/amr",
            ],
            Self::Scan => &["application/pdf", "image/jpeg", "image/png", "image/tiff"],
        }
    }

    /// Largest accepted file in bytes (a 30-minute call as 128 kbit/s MP3 is about 29 MB).
    pub fn max_bytes(self) -> usize {
        match self {
            Self::Recording => 64 << 20,
            Self::Scan => 32 << 20,
        }
    }

    /// File name extension for the sniffed type.
    pub fn extension(content_type: &str) -> &'static str {
        match content_type {
            "audio/mpeg" => "mp3",
            "audio/x-wav" => "wav",
            "audio/ogg" | "audio/opus" => "ogg",
            "audio/x-flac" => "flac",
            "audio/m4a" => "m4a",
            "audio/aac" => "aac",
            "audio/amr" => "amr",
            "application/pdf" => "pdf",
            "image/jpeg" => "jpg",
            "image/png" => "png",
            "image/tiff" => "tif",
            _ => "bin",
        }
    }
}

impl std::str::FromStr for AttachmentKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "recording" => Ok(Self::Recording),
            "scan" => Ok(Self::Scan),
            other => Err(format!("unknown attachment kind {other:?}: use recording or scan")),
        }
    }
}

/// What is known about a stored evidence file (the bytes themselves are sealed in the store).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttachmentMeta {
    /// SHA-256 of the plain bytes, hex: the file's address.
    pub sha256: String,
    /// Recording or scan.
    pub kind: AttachmentKind,
    /// Content type sniffed from the bytes.
    pub content_type: String,
    /// Size in bytes.
    pub size: u64,
}

/// Why a file is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AttachmentError {
    /// No bytes.
    #[error("the file is empty")]
    Empty,
    /// Larger than the kind allows.
    #[error("the file has {size} bytes; a {kind} may have at most {max} bytes")]
    TooLarge {
        /// Size.
        size: usize,
        /// Limit.
        max: usize,
        /// Kind.
        kind: &'static str,
    },
    /// The bytes are of no known type.
    #[error("the file's content type is not recognised; a {kind} must be one of {accepted}")]
    Unrecognised {
        /// Kind.
        kind: &'static str,
        /// Accepted types.
        accepted: String,
    },
    /// The bytes are of a type this kind does not accept.
    #[error("the file is {sniffed}; a {kind} must be one of {accepted}")]
    WrongType {
        /// Sniffed type.
        sniffed: String,
        /// Kind.
        kind: &'static str,
        /// Accepted types.
        accepted: String,
    },
    /// The client declared another type than the bytes have.
    #[error("the file was declared as {declared} but its content is {sniffed}")]
    DeclaredMismatch {
        /// Declared type.
        declared: String,
        /// Sniffed type.
        sniffed: String,
    },
}

/// Common aliases clients send for the types `infer` names.
fn normalise_declared(t: &str) -> String {
    let t = t.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    match t.as_str() {
        "audio/wav" | "audio/wave" | "audio/vnd.wave" => "audio/x-wav".into(),
        "audio/mp3" => "audio/mpeg".into(),
        "audio/flac" => "audio/x-flac".into(),
        "audio/mp4" | "audio/x-m4a" => "audio/m4a".into(),
        "image/jpg" => "image/jpeg".into(),
        _ => t,
    }
}

/// Checks a file for `kind` and describes it. `declared` is the client's Content-Type, if any;
/// `application/octet-stream` counts as undeclared.
pub fn classify(kind: AttachmentKind, declared: Option<&str>, bytes: &[u8]) -> Result<AttachmentMeta, AttachmentError> {
    if bytes.is_empty() {
        return Err(AttachmentError::Empty);
    }
    if bytes.len() > kind.max_bytes() {
        return Err(AttachmentError::TooLarge { size: bytes.len(), max: kind.max_bytes(), kind: kind.as_str() });
    }
    let accepted = kind.accepted().join(", ");
    let Some(t) = infer::get(bytes) else {
        return Err(AttachmentError::Unrecognised { kind: kind.as_str(), accepted });
    };
    let sniffed = t.mime_type().to_string();
    if !kind.accepted().contains(&sniffed.as_str()) {
        return Err(AttachmentError::WrongType { sniffed, kind: kind.as_str(), accepted });
    }
    if let Some(d) = declared.map(normalise_declared).filter(|d| !d.is_empty() && d != "application/octet-stream")
        && d != sniffed
    {
        return Err(AttachmentError::DeclaredMismatch { declared: d, sniffed });
    }
    Ok(AttachmentMeta { sha256: sha256_hex(bytes), kind, content_type: sniffed, size: bytes.len() as u64 })
}

#[cfg(test)]
mod tests {
    use super::*;

    const PDF: &[u8] = b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n";

    fn wav() -> Vec<u8> {
        let mut w = b"RIFF\x24\x00\x00\x00WAVEfmt \x10\x00\x00\x00\x01\x00\x01\x00\x40\x1f\x00\x00\x80\x3e\x00\x00\x02\x00\x10\x00data\x00\x00\x00\x00".to_vec();
        w.extend_from_slice(&[0; 16]);
        w
    }

    #[test]
    fn r18_scan_is_addressed_by_its_sha256() {
        let m = classify(AttachmentKind::Scan, Some("application/pdf"), PDF).unwrap();
        assert_eq!(m.sha256, sha256_hex(PDF));
        assert_eq!(m.content_type, "application/pdf");
        assert_eq!(m.size, PDF.len() as u64);
    }

    #[test]
    fn type_is_sniffed_not_trusted() {
        let w = wav();
        assert_eq!(classify(AttachmentKind::Recording, None, &w).unwrap().content_type, "audio/x-wav");
        assert_eq!(classify(AttachmentKind::Recording, Some("audio/wav"), &w).unwrap().content_type, "audio/x-wav");
        assert!(matches!(
            classify(AttachmentKind::Recording, Some("audio/mpeg"), &w),
            Err(AttachmentError::DeclaredMismatch { .. })
        ));
        assert!(matches!(classify(AttachmentKind::Scan, None, &w), Err(AttachmentError::WrongType { .. })));
        assert!(matches!(
            classify(AttachmentKind::Recording, Some("audio/x-wav"), b"just text, renamed to .wav"),
            Err(AttachmentError::Unrecognised { .. })
        ));
        assert_eq!(classify(AttachmentKind::Scan, None, b""), Err(AttachmentError::Empty));
    }

    #[test]
    fn size_limit_per_kind() {
        let mut big = PDF.to_vec();
        big.resize(AttachmentKind::Scan.max_bytes() + 1, b' ');
        let e = classify(AttachmentKind::Scan, None, &big).unwrap_err();
        assert!(matches!(e, AttachmentError::TooLarge { .. }));
        assert!(e.to_string().contains("at most"));
    }
}
