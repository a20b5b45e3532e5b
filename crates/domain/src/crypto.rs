//! Cryptographic building blocks: per-person data keys wrapped by the master key (XChaCha20-Poly1305),
//! the keyed-hash blind index (HMAC-SHA-256) and Ed25519 checkpoint keys. Nonces come from the caller.

use chacha20poly1305::XChaCha20Poly1305;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

/// Length of an XChaCha20 nonce.
pub const NONCE_LEN: usize = 24;

/// Errors of the crypto layer. Never carries plaintext.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CryptoError {
    /// Authentication failed: wrong key, or the bytes were changed.
    #[error("decryption failed: wrong key or tampered data")]
    Decrypt,
    /// Sealed bytes too short to contain a nonce and tag.
    #[error("sealed data is truncated")]
    Truncated,
    /// Key material has the wrong length or encoding.
    #[error("key material is malformed: {0}")]
    BadKey(&'static str),
}

fn seal_with(key: &[u8; 32], nonce: [u8; NONCE_LEN], plaintext: &[u8], aad: &[u8]) -> Vec<u8> {
    let cipher = XChaCha20Poly1305::new(&(*key).into());
    let ct = cipher
        .encrypt((&nonce).into(), Payload { msg: plaintext, aad })
        .expect("XChaCha20-Poly1305 encryption of in-memory data cannot fail");
    let mut out = Vec::with_capacity(NONCE_LEN + ct.len());
    out.extend_from_slice(&nonce);
    out.extend_from_slice(&ct);
    out
}

fn open_with(key: &[u8; 32], sealed: &[u8], aad: &[u8]) -> Result<Vec<u8>, CryptoError> {
    if sealed.len() < NONCE_LEN + 16 {
        return Err(CryptoError::Truncated);
    }
    let (nonce, ct) = sealed.split_at(NONCE_LEN);
    let nonce: [u8; NONCE_LEN] = nonce.try_into().map_err(|_| CryptoError::Truncated)?;
    XChaCha20Poly1305::new(&(*key).into())
        .decrypt((&nonce).into(), Payload { msg: ct, aad })
        .map_err(|_| CryptoError::Decrypt)
}

/// The installation master key. Wraps per-person data keys and derives blind-index keys.
#[derive(Clone)]
pub struct MasterKey([u8; 32]);

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MasterKey(<secret>)")
    }
}

impl MasterKey {
    /// From raw bytes.
    pub fn from_bytes(b: [u8; 32]) -> Self {
        Self(b)
    }
    /// From 64 hex characters (file or environment).
    pub fn from_hex(s: &str) -> Result<Self, CryptoError> {
        let v = hex::decode(s.trim()).map_err(|_| CryptoError::BadKey("master key must be 64 hex characters"))?;
        let b: [u8; 32] = v.try_into().map_err(|_| CryptoError::BadKey("master key must be 32 bytes"))?;
        Ok(Self(b))
    }
    /// Hex form for storing in the key file.
    pub fn to_hex(&self) -> String {
        hex(self.0)
    }
    /// A short, non-secret fingerprint to tell keys apart.
    pub fn fingerprint(&self) -> String {
        hex::encode(&Sha256::digest([b"konsent-key-fingerprint".as_slice(), &self.0].concat())[..8])
    }
    /// Wraps a data key; `aad` binds it to its owner (e.g. tenant and person id).
    pub fn wrap(&self, dek: &DataKey, nonce: [u8; NONCE_LEN], aad: &[u8]) -> Vec<u8> {
        seal_with(&self.0, nonce, &dek.0, aad)
    }
    /// Unwraps a data key.
    pub fn unwrap(&self, wrapped: &[u8], aad: &[u8]) -> Result<DataKey, CryptoError> {
        let raw = open_with(&self.0, wrapped, aad)?;
        let b: [u8; 32] = raw.try_into().map_err(|_| CryptoError::BadKey("wrapped key has wrong length"))?;
        Ok(DataKey(b))
    }
    /// Derives a purpose-bound key (e.g. for decision tokens) from the master key.
    pub fn derive(&self, purpose: &[u8]) -> [u8; 32] {
        hmac256(&self.0, &[b"konsent-derive-v1\0".as_slice(), purpose].concat())
    }

    /// Derives the blind-index key of a tenant.
    pub fn blind_index_key(&self, tenant: &[u8]) -> BlindIndexKey {
        BlindIndexKey::new(hmac256(&self.0, &[b"konsent-blind-index-v1\0".as_slice(), tenant].concat()))
    }
}

/// A per-person data key. Destroying its wrapped copy erases the person's data (crypto-shredding).
#[derive(Clone)]
pub struct DataKey([u8; 32]);

impl std::fmt::Debug for DataKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DataKey(<secret>)")
    }
}

impl DataKey {
    /// From random bytes.
    pub fn from_bytes(b: [u8; 32]) -> Self {
        Self(b)
    }
    /// Encrypts `plaintext`; output is nonce ‖ ciphertext ‖ tag.
    pub fn seal(&self, nonce: [u8; NONCE_LEN], plaintext: &[u8], aad: &[u8]) -> Vec<u8> {
        seal_with(&self.0, nonce, plaintext, aad)
    }
    /// Decrypts what [`DataKey::seal`] produced.
    pub fn open(&self, sealed: &[u8], aad: &[u8]) -> Result<Vec<u8>, CryptoError> {
        open_with(&self.0, sealed, aad)
    }
}

/// Key of the keyed-hash blind index used to find contact points and match suppression entries.
/// Holds the HMAC already keyed (its inner and outer pads hashed), so each index costs two
/// SHA-256 blocks instead of four: an import computes several a row.
#[derive(Clone)]
pub struct BlindIndexKey(Hmac<Sha256>);

impl std::fmt::Debug for BlindIndexKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("BlindIndexKey(<secret>)")
    }
}

impl BlindIndexKey {
    fn new(key: [u8; 32]) -> Self {
        Self(<Hmac<Sha256> as KeyInit>::new_from_slice(&key).expect("HMAC takes keys of any length"))
    }

    /// HMAC-SHA-256 of a normalised contact key (`ContactValue::match_key`), hex.
    pub fn index(&self, match_key: &str) -> String {
        let mut m = self.0.clone();
        m.update(match_key.as_bytes());
        hex(m.finalize().into_bytes())
    }
}

/// HMAC-SHA-256.
pub fn hmac256(key: &[u8], msg: &[u8]) -> [u8; 32] {
    let mut m = <Hmac<Sha256> as KeyInit>::new_from_slice(key).expect("HMAC takes keys of any length");
    m.update(msg);
    m.finalize().into_bytes().into()
}

/// SHA-256.
pub fn sha256(data: &[u8]) -> [u8; 32] {
    Sha256::digest(data).into()
}

/// SHA-256, hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(Sha256::digest(bytes))
}

/// Lower-case hex, as `hex::encode` writes it, but through its table (`encode_to_slice`) instead
/// of an iterator of `char`s pushed one by one: an import hex-encodes several hashes a row.
pub fn hex(bytes: impl AsRef<[u8]>) -> String {
    let bytes = bytes.as_ref();
    let mut out = vec![0; bytes.len() * 2];
    // `out` is exactly twice as long as `bytes`, the only way encode_to_slice fails.
    let _ = hex::encode_to_slice(bytes, &mut out);
    // Hex digits are ASCII.
    String::from_utf8(out).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrap_seal_open_round_trip_and_tamper() {
        let mk = MasterKey::from_bytes([7; 32]);
        let dek = DataKey::from_bytes([9; 32]);
        let wrapped = mk.wrap(&dek, [1; NONCE_LEN], b"tenant/person");
        let dek2 = mk.unwrap(&wrapped, b"tenant/person").unwrap();
        let sealed = dek2.seal([2; NONCE_LEN], b"Anna Meier", b"p1");
        assert_eq!(dek.open(&sealed, b"p1").unwrap(), b"Anna Meier");
        assert_eq!(dek.open(&sealed, b"p2"), Err(CryptoError::Decrypt));
        let mut bad = sealed.clone();
        bad[30] ^= 1;
        assert_eq!(dek.open(&bad, b"p1"), Err(CryptoError::Decrypt));
        assert!(mk.unwrap(&wrapped, b"other").is_err());
        assert_eq!(MasterKey::from_hex(&mk.to_hex()).unwrap().fingerprint(), mk.fingerprint());
    }

    #[test]
    fn sealing_matches_the_xchacha20_poly1305_test_vector() {
        // draft-irtf-cfrg-xchacha-03, A.3.1: whichever Poly1305 code the build uses
        // (.cargo/config.toml), sealed bytes are nonce ‖ ciphertext ‖ tag as specified.
        let key: [u8; 32] = hex::decode("808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f")
            .unwrap()
            .try_into()
            .unwrap();
        let nonce: [u8; NONCE_LEN] =
            hex::decode("404142434445464748494a4b4c4d4e4f5051525354555657").unwrap().try_into().unwrap();
        let aad = hex::decode("50515253c0c1c2c3c4c5c6c7").unwrap();
        let plaintext: &[u8] = b"Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be it.";
        let expected = [
            "404142434445464748494a4b4c4d4e4f5051525354555657",
            "bd6d179d3e83d43b9576579493c0e939572a1700252bfaccbed2902c21396cbb731c7f1b0b4aa6440bf3a82f4eda7e39ae64c6708c54c216cb96b72e1213b4522f8c9ba40db5d945b11b69b982c1bb9e3f3fac2bc369488f76b2383565d3fff921f9664c97637da9768812f615c68b13b52e",
            "c0875924c1c7987947deafd8780acf49",
        ]
        .concat();
        let key = DataKey::from_bytes(key);
        let sealed = key.seal(nonce, plaintext, &aad);
        assert_eq!(hex::encode(&sealed), expected);
        assert_eq!(key.open(&sealed, &aad).unwrap(), plaintext);
        // Messages the length of a person's data, across Poly1305's 16-byte blocks.
        for len in [0, 1, 15, 16, 17, 200, 1000] {
            let m: Vec<u8> = (0..len).map(|i| i as u8).collect();
            assert_eq!(key.open(&key.seal(nonce, &m, b"p"), b"p").unwrap(), m);
        }
    }

    #[test]
    fn blind_index_is_keyed_per_tenant() {
        let mk = MasterKey::from_bytes([7; 32]);
        let a = mk.blind_index_key(b"t1").index("email:a@b.de");
        assert_eq!(a, mk.blind_index_key(b"t1").index("email:a@b.de"));
        assert_ne!(a, mk.blind_index_key(b"t2").index("email:a@b.de"));
        assert_eq!(a.len(), 64);
    }

    #[test]
    fn blind_index_and_hex_write_what_was_stored_before() {
        // Stored blind indexes must keep matching: the pre-keyed HMAC and the table hex give the
        // bytes the plain HMAC and `hex::encode` gave.
        let mk = MasterKey::from_bytes([7; 32]);
        let key = hmac256(&mk.0, b"konsent-blind-index-v1\0t1");
        assert_eq!(mk.blind_index_key(b"t1").index("email:a@b.de"), hex::encode(hmac256(&key, b"email:a@b.de")));
        let all: Vec<u8> = (0..=255).collect();
        assert_eq!(hex(&all), hex::encode(&all));
        assert_eq!(sha256_hex(b"abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    }
}
