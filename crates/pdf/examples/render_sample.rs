//! Renders the test sample report to a file and prints the render times, for editing
//! `src/report.typ`: `cargo run --release -p konsent-pdf --example render_sample -- out.pdf`.

#[path = "../tests/sample/mod.rs"]
mod sample;

use std::time::Instant;

fn main() {
    let out = std::env::args().nth(1).unwrap_or_else(|| "sample.pdf".into());
    let mut pdf = Vec::new();
    // Run 1 pays the one-off font parsing; runs 2 and 3 change every table row (like the next
    // report a server renders); run 4 repeats run 3 exactly (typst's memo cache answers).
    for run in 1..=4 {
        let mut report = sample::report();
        report.title = format!("Einwilligungsnachweis {}", run.min(3));
        for block in report.sections.iter_mut().flat_map(|s| s.blocks.iter_mut()) {
            if let konsent_pdf::Block::Table { rows, .. } = block {
                rows.iter_mut().for_each(|row| row[1] = format!("{} ({})", row[1], run.min(3)));
            }
        }
        let start = Instant::now();
        pdf = konsent_pdf::render(&report).expect("the sample renders");
        println!("render {run}: {:?} ({} bytes)", start.elapsed(), pdf.len());
    }
    std::fs::write(&out, pdf).expect("write the PDF");
    println!("written to {out}");
}
