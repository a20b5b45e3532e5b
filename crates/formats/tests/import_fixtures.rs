//! Integration tests of the import readers against copies of the shared fixtures
//! (`testdata/`, described in `testdata/FIXTURES-README.md`) and against hand-made bad input.
//! "Sheet row" below is the spreadsheet row number: README data row N is sheet row N + 1.

#[path = "import_fixtures/cleverreach.rs"]
mod cleverreach;
#[path = "import_fixtures/common.rs"]
mod common;
#[path = "import_fixtures/generic.rs"]
mod generic;
#[path = "import_fixtures/hubspot.rs"]
mod hubspot;
#[path = "import_fixtures/mailchimp.rs"]
mod mailchimp;
#[path = "import_fixtures/mapping.rs"]
mod mapping;
#[path = "import_fixtures/robustness.rs"]
mod robustness;
