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

use crate::error::StoreError;

/// zstd's frame magic number, little-endian as it is stored.
const ZSTD_MAGIC: [u8; 4] = [0x28, 0xB5, 0x2F, 0xFD];

/// zstd level 1: the fastest of the normal levels, and on an import's records as small as 3.
const LEVEL: i32 = 1;

/// The stored form of framed records.
pub(crate) fn pack(framed: &[u8]) -> Result<Vec<u8>, StoreError> {
    zstd::bulk::compress(framed, LEVEL).map_err(|e| StoreError::Corrupt(format!("compressing batch records: {e}")))
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
