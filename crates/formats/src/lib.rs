//! File formats at Konsent's edges, without database or network: reading the exports of
//! newsletter tools, CRMs and broker software (`import`), and writing the import formats of
//! the tools Konsent feeds (`export`).

pub mod export;
pub mod import;
