//! End-to-end checks of the rendered PDF, read back with poppler (`pdftotext`, `pdfinfo`).

mod sample;

use std::process::Command;
use std::time::Instant;

use konsent_pdf::{Block, Fact, PdfError, Report, Section, render};

/// Left and right margin edges of A4 with 2 cm margins, in PostScript points.
const LEFT: f64 = 2.0 / 2.54 * 72.0;
const RIGHT: f64 = 595.276 - LEFT;

/// Runs a poppler tool on the PDF and returns its stdout (stderr has a harmless MarkInfo warning).
fn poppler(tool: &str, args: &[&str], pdf: &[u8]) -> String {
    let file = tempfile::Builder::new().suffix(".pdf").tempfile().expect("temp file");
    std::fs::write(file.path(), pdf).expect("write the PDF");
    let path = file.path().to_str().expect("utf-8 temp path");
    let output = Command::new(tool)
        .args(args)
        .arg(path)
        .args(if tool == "pdfinfo" { &[][..] } else { &["-"][..] })
        .output()
        .unwrap_or_else(|e| panic!("{tool} must be installed (apt-get install poppler-utils): {e}"));
    assert!(output.status.success(), "{tool} failed: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout).expect("poppler writes UTF-8")
}

fn text(pdf: &[u8]) -> String {
    poppler("pdftotext", &["-layout", "-enc", "UTF-8"], pdf)
}

/// Pages reported by `pdfinfo`, after checking that the paper is A4.
fn a4_pages(pdf: &[u8]) -> usize {
    let info = poppler("pdfinfo", &[], pdf);
    let field = |name: &str| {
        info.lines()
            .find_map(|l| l.strip_prefix(name))
            .unwrap_or_else(|| panic!("pdfinfo has no {name}: {info}"))
            .trim()
            .to_owned()
    };
    assert!(field("Page size:").contains("(A4)"), "not A4: {info}");
    field("Pages:").parse().expect("a page count")
}

/// Words (text, xMin, xMax) with their boxes, from `pdftotext -bbox`.
fn word_boxes(pdf: &[u8]) -> Vec<(String, f64, f64)> {
    let html = poppler("pdftotext", &["-bbox", "-enc", "UTF-8"], pdf);
    let attr = |line: &str, name: &str| -> f64 {
        let start = line.find(&format!("{name}=\"")).expect("attribute") + name.len() + 2;
        line[start..].split('"').next().expect("value").parse().expect("a number")
    };
    html.lines()
        .filter(|l| l.trim_start().starts_with("<word "))
        .map(|l| {
            let word = l.split('>').nth(1).and_then(|w| w.split('<').next()).unwrap_or("");
            (word.to_owned(), attr(l, "xMin"), attr(l, "xMax"))
        })
        .collect()
}

/// All whitespace runs collapsed to one space, so words split by layout still match.
fn squash(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[test]
fn sample_report_reads_back_completely() {
    let report = sample::report();
    let start = Instant::now();
    let pdf = render(&report).expect("the sample renders");
    eprintln!("sample rendered in {:?} ({} bytes)", start.elapsed(), pdf.len());
    assert!(pdf.starts_with(b"%PDF-"));

    let pages = a4_pages(&pdf);
    assert!(pages > 3, "300 calls should span several pages, got {pages}");
    let text = text(&pdf);
    let flat = squash(&text);

    for word in ["Einwilligungsnachweis", "Jörg Müller-Lüdenscheidt", "Königstraße 12", "70173 Stuttgart"] {
        assert!(flat.contains(word), "missing {word:?}");
    }
    for word in ["Söhne", "Gründen", "„Einwilligung widerrufen“", "Rechtmäßigkeit", "unberührt", "Integrität"]
    {
        assert!(flat.contains(word), "missing {word:?} from the consent text");
    }
    assert!(flat.contains("1 Betroffene Person"), "numbered section heading");
    assert!(flat.contains("4 Integrität"), "numbered section heading");
    assert_eq!(flat.matches(sample::INJECTION).count(), 2, "the injection string is printed literally twice");

    // The quote keeps its line breaks: the line after "\n" starts a new line in the frame.
    let line_starts = text.lines().map(str::trim_start);
    assert!(line_starts.clone().any(|l| l.starts_with("Die Rechtmäßigkeit")), "quote line break kept");

    let page_texts: Vec<&str> = text.split('\x0c').filter(|p| !p.trim().is_empty()).collect();
    assert_eq!(page_texts.len(), pages, "pdftotext and pdfinfo agree on the pages");
    let table_pages: Vec<&&str> = page_texts.iter().filter(|p| p.contains("Anruf-")).collect();
    assert!(table_pages.len() > 1, "the table spans several pages");
    for page in table_pages {
        assert!(page.contains("Zeitpunkt") && page.contains("Ergebnis"), "the header repeats on each table page");
    }
    for i in 1..=sample::CALLS {
        assert_eq!(flat.matches(&format!("Anruf-{i:04} ")).count(), 1, "row {i} once");
    }
    for (n, page) in page_texts.iter().enumerate() {
        let footer = format!("Seite {} von {pages}", n + 1);
        assert!(squash(page).contains(&footer), "page {} has {footer:?}", n + 1);
        assert!(page.contains("Konsent · Einwilligungsnachweis · vertraulich"), "footer text on page {}", n + 1);
    }

    // The hash fits one line; the 128-hex signature is cut over two lines without extra characters.
    assert!(text.lines().any(|l| l.trim() == sample::HASH), "hash on one line");
    let signature = sample::signature();
    let lines: Vec<&str> = text.lines().map(str::trim).collect();
    let first = lines.iter().position(|l| signature.starts_with(l) && l.len() > 32).expect("signature start");
    assert!(lines[first].len() < signature.len(), "the signature must wrap");
    assert_eq!(format!("{}{}", lines[first], lines[first + 1]), signature, "signature wraps onto the next line");
}

#[test]
fn nothing_crosses_the_margins() {
    let pdf = render(&sample::report()).expect("the sample renders");
    let words = word_boxes(&pdf);
    assert!(words.len() > 1000, "bbox output parsed ({} words)", words.len());
    for (word, x_min, x_max) in words {
        // Typst lets punctuation and hyphens at a line end hang into the margin (optical margins).
        let hang = if word.ends_with(['.', ',', ';', ':', '-', '\u{2013}', ')', '\u{201c}']) { 3.0 } else { 0.5 };
        assert!(x_min >= LEFT - 0.5 && x_max <= RIGHT + hang, "{word:?} at {x_min}..{x_max} leaves the text area");
    }
    // The signature line is cut to the exact width: no overhang allowed.
    let signature = sample::signature();
    let cut = word_boxes(&pdf).into_iter().find(|(w, _, _)| w.len() > 64 && signature.starts_with(w.as_str()));
    let (_, _, x_max) = cut.expect("the first signature line");
    assert!(x_max <= RIGHT + 0.01 && x_max > RIGHT - 6.0, "the mono line fills the width: ends at {x_max}");
}

#[test]
fn empty_report_renders_one_page() {
    let pdf = render(&Report::default()).expect("an empty report renders");
    assert_eq!(a4_pages(&pdf), 1);
    assert!(squash(&text(&pdf)).contains("Seite 1 von 1"), "German is the default");
}

#[test]
fn empty_and_ragged_parts_render() {
    let report = Report {
        lang: "en".into(),
        title: "Edge cases".into(),
        subtitle: None,
        meta: vec![],
        footer: String::new(),
        sections: vec![
            Section { heading: "No blocks".into(), blocks: vec![] },
            Section {
                heading: "Empty blocks".into(),
                blocks: vec![
                    Block::Paragraph { text: String::new() },
                    Block::Subheading { text: String::new() },
                    Block::Facts { facts: vec![] },
                    Block::Facts { facts: vec![Fact::new("", "")] },
                    Block::Quote { label: String::new(), text: String::new() },
                    Block::Table { columns: vec![], rows: vec![] },
                    Block::Table { columns: vec!["Only header".into()], rows: vec![] },
                    Block::Table {
                        columns: vec!["A".into(), "B".into()],
                        rows: vec![vec!["short row".into()], vec![], vec!["x".into(), "y".into()]],
                    },
                    Block::Mono { text: String::new() },
                    Block::Mono { text: "line one\n\nline three".into() },
                    Block::Paragraph { text: "Unicode: 😀 ∑ ½ → ✓ ﬁ".into() },
                ],
            },
        ],
    };
    let pdf = render(&report).expect("edge cases render");
    let flat = squash(&text(&pdf));
    for expected in ["1 No blocks", "2 Empty blocks", "Only header", "short row", "line three", "Page 1 of 1"] {
        assert!(flat.contains(expected), "missing {expected:?} in {flat}");
    }
}

#[test]
fn rows_longer_than_the_columns_are_refused() {
    let report = Report {
        sections: vec![Section {
            heading: "Tabelle".into(),
            blocks: vec![Block::Table { columns: vec!["A".into()], rows: vec![vec!["x".into(), "lost".into()]] }],
        }],
        ..Report::default()
    };
    match render(&report) {
        Err(PdfError::Layout(message)) => assert!(message.contains("row 1 has 2 cells"), "{message}"),
        other => panic!("expected a layout error, got {other:?}"),
    }
}

#[test]
fn renders_concurrently() {
    let small = |n: usize| Report {
        title: format!("Bericht {n}"),
        sections: vec![Section {
            heading: "Abschnitt".into(),
            blocks: vec![Block::Paragraph { text: format!("Absatz {n}") }],
        }],
        ..Report::default()
    };
    let handles: Vec<_> = (0..4).map(|n| std::thread::spawn(move || render(&small(n)))).collect();
    for (n, handle) in handles.into_iter().enumerate() {
        let pdf = handle.join().expect("no panic").expect("renders");
        assert!(squash(&text(&pdf)).contains(&format!("Bericht {n}")), "each render has its own data");
    }
}
