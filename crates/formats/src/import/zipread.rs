//! ZIP archives (Mailchimp's export): listing the CSV members and streaming each one from a
//! shared seekable source, so a member is never held in memory whole.

use std::io::{self, Read, Seek, SeekFrom};
use std::sync::{Arc, Mutex};

use zip::CompressionMethod;

use super::error::ImportError;

/// A seekable byte source shared by the members of one archive.
pub(crate) trait ReadSeek: Read + Seek + Send {}
impl<T: Read + Seek + Send> ReadSeek for T {}

type Shared = Arc<Mutex<dyn ReadSeek>>;

/// Where one member's bytes are.
#[derive(Debug, Clone)]
pub(crate) struct Member {
    pub name: String,
    data_start: u64,
    compressed_size: u64,
    size: u64,
    crc32: u32,
    deflated: bool,
}

/// The CSV members of an archive and the source they are read from.
pub(crate) struct Archive {
    shared: Shared,
    pub members: Vec<Member>,
}

fn zip_err(e: zip::result::ZipError) -> ImportError {
    ImportError::Zip(e.to_string())
}

fn is_csv(name: &str) -> bool {
    let base = name.rsplit('/').next().unwrap_or(name);
    let lower = base.to_ascii_lowercase();
    !name.starts_with("__MACOSX/") && !base.starts_with("._") && (lower.ends_with(".csv") || lower.ends_with(".txt"))
}

impl Archive {
    /// Reads the central directory. Fails on unreadable archives, encrypted members, compression
    /// other than stored/deflate, and archives without a CSV file.
    pub fn open<R: Read + Seek + Send + 'static>(reader: R) -> Result<Archive, ImportError> {
        let mut zip = zip::ZipArchive::new(reader).map_err(zip_err)?;
        let mut members = Vec::new();
        let mut all = Vec::new();
        for i in 0..zip.len() {
            let f = zip.by_index_raw(i).map_err(zip_err)?;
            let name = f.name().to_string();
            all.push(name.clone());
            if f.is_dir() || !is_csv(&name) {
                continue;
            }
            if f.encrypted() {
                return Err(ImportError::Zip(format!("member '{name}' is encrypted")));
            }
            let deflated = match f.compression() {
                CompressionMethod::Stored => false,
                CompressionMethod::Deflated => true,
                other => {
                    return Err(ImportError::Zip(format!(
                        "member '{name}' uses compression {other}; only stored and deflate are supported"
                    )));
                }
            };
            members.push(Member {
                name,
                data_start: f.data_start(),
                compressed_size: f.compressed_size(),
                size: f.size(),
                crc32: f.crc32(),
                deflated,
            });
        }
        if members.is_empty() {
            return Err(ImportError::Zip(format!("no CSV file in the archive; found [{}]", all.join(", "))));
        }
        let shared: Shared = Arc::new(Mutex::new(zip.into_inner()));
        Ok(Archive { shared, members })
    }

    /// A stream of the member's uncompressed bytes, checked against its CRC-32 and size at the end.
    pub fn member(&self, m: &Member) -> Box<dyn Read + Send> {
        let raw = Slice { shared: Arc::clone(&self.shared), pos: m.data_start, end: m.data_start + m.compressed_size };
        let inner: Box<dyn Read + Send> =
            if m.deflated { Box::new(flate2::read::DeflateDecoder::new(raw)) } else { Box::new(raw) };
        Box::new(Checked { inner, crc: flate2::Crc::new(), expected_crc: m.crc32, expected_size: m.size, done: false })
    }
}

/// A byte range of the shared source; seeks before each read so several members may be open.
struct Slice {
    shared: Shared,
    pos: u64,
    end: u64,
}

impl Read for Slice {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let left = self.end.saturating_sub(self.pos);
        if left == 0 || buf.is_empty() {
            return Ok(0);
        }
        let want = buf.len().min(usize::try_from(left).unwrap_or(usize::MAX));
        let mut src = self.shared.lock().map_err(|_| io::Error::other("ZIP source lock poisoned"))?;
        src.seek(SeekFrom::Start(self.pos))?;
        let n = src.read(&mut buf[..want])?;
        if n == 0 {
            return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "ZIP member is truncated"));
        }
        self.pos += n as u64;
        Ok(n)
    }
}

/// Verifies CRC-32 and length once the inner stream ends.
struct Checked {
    inner: Box<dyn Read + Send>,
    crc: flate2::Crc,
    expected_crc: u32,
    expected_size: u64,
    done: bool,
}

impl Read for Checked {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.done {
            return Ok(0);
        }
        let n = self.inner.read(buf)?;
        if n == 0 {
            self.done = true;
            if self.crc.sum() != self.expected_crc || u64::from(self.crc.amount()) != self.expected_size & 0xFFFF_FFFF {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    "ZIP member is corrupt (CRC-32 or size mismatch)",
                ));
            }
            return Ok(0);
        }
        self.crc.update(&buf[..n]);
        Ok(n)
    }
}
