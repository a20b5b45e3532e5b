//! The sealed typst world a render runs in: one embedded template, the bundled fonts, the report
//! as input data, and nothing else (no filesystem, no packages, no network, no clock).

use std::sync::LazyLock;

use typst::diag::{FileError, FileResult};
use typst::foundations::{Bytes, Datetime, Dict, Duration, Str, Value};
use typst::syntax::{FileId, RootedPath, Source, VirtualPath, VirtualRoot};
use typst::text::{Font, FontBook};
use typst::utils::LazyHash;
use typst::{Library, LibraryExt, World};

/// The template, editable without knowing Rust.
const TEMPLATE: &str = include_str!("report.typ");

/// The bundled fonts (Libertinus Serif, New Computer Modern, DejaVu Sans Mono), parsed once.
struct Fonts {
    book: LazyHash<FontBook>,
    fonts: Vec<Font>,
}

static FONTS: LazyLock<Fonts> = LazyLock::new(|| {
    let fonts: Vec<Font> = typst_assets::fonts().flat_map(|data| Font::iter(Bytes::new(data))).collect();
    Fonts { book: LazyHash::new(FontBook::from_fonts(&fonts)), fonts }
});

/// The id of the template (`/main.typ` in the project root).
static MAIN: LazyLock<FileId> = LazyLock::new(|| {
    let path = VirtualPath::new("main.typ").expect("a valid virtual path");
    FileId::new(RootedPath::new(VirtualRoot::Project, path))
});

/// One render's world: the template plus the report under `sys.inputs.data` (JSON bytes).
pub(crate) struct ReportWorld {
    library: LazyHash<Library>,
    main: Source,
}

impl ReportWorld {
    /// A world whose template reads `json` (the serialised report) from `sys.inputs.data`.
    pub(crate) fn new(json: Vec<u8>) -> Self {
        let inputs: Dict = [(Str::from("data"), Value::Bytes(Bytes::new(json)))].into_iter().collect();
        let library = Library::builder().with_inputs(inputs).build();
        Self { library: LazyHash::new(library), main: Source::new(*MAIN, TEMPLATE.to_owned()) }
    }
}

impl World for ReportWorld {
    fn library(&self) -> &LazyHash<Library> {
        &self.library
    }

    fn book(&self) -> &LazyHash<FontBook> {
        &FONTS.book
    }

    fn main(&self) -> FileId {
        self.main.id()
    }

    fn source(&self, id: FileId) -> FileResult<Source> {
        if id == self.main.id() { Ok(self.main.clone()) } else { Err(FileError::AccessDenied) }
    }

    fn file(&self, id: FileId) -> FileResult<Bytes> {
        if id == self.main.id() { Ok(Bytes::from_string(TEMPLATE)) } else { Err(FileError::AccessDenied) }
    }

    fn font(&self, index: usize) -> Option<Font> {
        FONTS.fonts.get(index).cloned()
    }

    fn today(&self, _offset: Option<Duration>) -> Option<Datetime> {
        // The caller formats every date itself; the template must not depend on the clock.
        None
    }
}
