//! How a batch entry's records lie on disk: the framed records (see
//! `konsent_domain::ledger::frame`) compressed as one zstd frame. An import's records are JSON
//! with the same keys, text ids and hashes over and over; zstd's fastest level makes them about
//! eight times smaller at over 1 GB/s, and the ledger was a third of an import's bytes.
//!
//! Compression is only the storage form. The entry's payload holds the Merkle root over the
//! uncompressed records, so `verify` and a proof package check what the records say, not how
//! they were stored. Records written before compression (migration 8, session 10) begin with
//! a record's four-byte length, whose first byte is zero for any record under 16 MB; a zstd
//! frame begins with its magic number, so both forms are read.

use std::borrow::Cow;
use std::io::Write;

use konsent_domain::ledger::merkle;

use crate::error::StoreError;

/// zstd's frame magic number, little-endian as it is stored.
const ZSTD_MAGIC: [u8; 4] = [0x28, 0xB5, 0x2F, 0xFD];

/// zstd level 1: the fastest of the normal levels, and on an import's records as small as 3.
const LEVEL: i32 = 1;

/// The stored form of framed records (what [`Packer`] writes; the tests' reference).
#[cfg(test)]
fn pack(framed: &[u8]) -> Result<Vec<u8>, StoreError> {
    zstd::bulk::compress(framed, LEVEL).map_err(|e| StoreError::Corrupt(format!("compressing batch records: {e}")))
}

/// Frames and compresses a batch's records as they are encoded, so the writer holds the
/// compressed bytes and one hash per record instead of every record twice (encoded, then
/// framed) until the batch ends: at 10,000 rows a batch that is over 40 MB. The stored bytes
/// are what [`pack`] makes of `konsent_domain::ledger::frame`'s output, and the root the same.
pub(crate) struct Packer {
    out: zstd::stream::Encoder<'static, Vec<u8>>,
    hashes: Vec<merkle::Hash>,
}

impl Packer {
    pub(crate) fn new() -> Result<Self, StoreError> {
        let out = zstd::stream::Encoder::new(Vec::new(), LEVEL).map_err(compressing)?;
        Ok(Self { out, hashes: Vec::new() })
    }

    /// Appends one encoded record (its length, 4 bytes big-endian, then its bytes).
    pub(crate) fn push(&mut self, record: &[u8]) -> Result<(), StoreError> {
        let len = u32::try_from(record.len()).map_err(|_| StoreError::Corrupt("a batch record over 4 GB".into()))?;
        self.out.write_all(&len.to_be_bytes()).map_err(compressing)?;
        self.out.write_all(record).map_err(compressing)?;
        self.hashes.push(konsent_domain::ledger::record_hash(record));
        Ok(())
    }

    /// Records pushed so far.
    pub(crate) fn len(&self) -> usize {
        self.hashes.len()
    }

    /// The stored bytes and the Merkle root over the records.
    pub(crate) fn finish(self) -> Result<(Vec<u8>, merkle::Hash), StoreError> {
        let stored = self.out.finish().map_err(compressing)?;
        Ok((stored, merkle::root(&self.hashes).unwrap_or([0; 32])))
    }
}

fn compressing(e: std::io::Error) -> StoreError {
    StoreError::Corrupt(format!("compressing batch records: {e}"))
}

/// The framed records of a stored `records` column, whichever form it was written in.
pub fn unpack(stored: &[u8]) -> Result<Cow<'_, [u8]>, StoreError> {
    if stored.starts_with(&ZSTD_MAGIC) {
        zstd::stream::decode_all(stored)
            .map(Cow::Owned)
            .map_err(|e| StoreError::Corrupt(format!("batch records cannot be decompressed: {e}")))
    } else {
        Ok(Cow::Borrowed(stored))
    }
}

/// For `verify`: the framed records, or the stored bytes as they are when they do not
/// decompress. Those can never match the entry's root, so the chain breaks at that entry with
/// its seq instead of the walk stopping with an error.
pub(crate) fn unpack_for_check(stored: &[u8]) -> Cow<'_, [u8]> {
    unpack(stored).unwrap_or(Cow::Borrowed(stored))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_come_back_from_either_stored_form() {
        let framed: Vec<u8> = [&[0u8, 0, 0, 3][..], b"abc", &[0, 0, 0, 2], b"de"].concat();
        let packed = pack(&framed).unwrap();
        assert!(packed.starts_with(&ZSTD_MAGIC));
        assert_eq!(unpack(&packed).unwrap(), framed);
        // Uncompressed records, as session 10 stored them, are read as they are.
        assert!(matches!(unpack(&framed).unwrap(), Cow::Borrowed(b) if b == framed.as_slice()));
        // A cut frame is an error, and `verify` gets the stored bytes to fail the root check.
        let cut = &packed[..packed.len() - 3];
        assert!(unpack(cut).is_err());
        assert_eq!(unpack_for_check(cut), cut);
    }

    #[test]
    fn the_packer_stores_what_pack_stores_of_the_framed_records() {
        let records: Vec<Vec<u8>> =
            (0..300).map(|i| format!("{{\"row\":{i}}}").repeat(i % 7 + 1).into_bytes()).collect();
        let (framed, root) = konsent_domain::ledger::frame(&records);
        let mut p = Packer::new().unwrap();
        for r in &records {
            p.push(r).unwrap();
        }
        assert_eq!(p.len(), 300);
        let (stored, packed_root) = p.finish().unwrap();
        assert!(stored.starts_with(&ZSTD_MAGIC));
        assert_eq!(unpack(&stored).unwrap(), framed);
        assert_eq!(packed_root, root);
        assert_eq!(konsent_domain::ledger::root_of(&unpack(&stored).unwrap()).unwrap(), root);
    }

    #[test]
    fn an_import_batch_is_stored_several_times_smaller() {
        // Two thousand records shaped like an import's: the same keys and ids, a different
        // person id and row in each.
        let records: Vec<Vec<u8>> = (0..2000)
            .map(|i| {
                format!(
                    r#"{{"person":"01a2469e-089e-7215-a4fa-{i:012x}","events":[{{"event_id":"01a2469e-089e-7144-8e31-{i:012x}","body":{{"type":"consent_recorded","text_id":"01a2469e-0863-7dd9-b621-4b99be3a6523","row":{i}}}}}]}}"#
                )
                .into_bytes()
            })
            .collect();
        let (framed, _) = konsent_domain::ledger::frame(&records);
        let packed = pack(&framed).unwrap();
        assert!(packed.len() * 4 < framed.len(), "{} bytes packed from {}", packed.len(), framed.len());
    }
}
