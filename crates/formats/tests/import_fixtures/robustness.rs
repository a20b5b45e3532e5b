//! Bad input of every kind: broken rows give row errors and the reader goes on; files that
//! cannot be read give file errors; no message quotes an e-mail address or a phone number.

use std::io::{Cursor, Read};

use konsent_formats::import::{
    Encoding, Format, ImportError, ImportRow, LineEnding, SourceStatus, WHOLE_ROW, open_path, open_reader,
    open_seekable,
};

use super::common::{read_bytes, read_ok, testdata};

#[test]
fn formats_parse_by_name() {
    assert_eq!("mailchimp".parse::<Format>().ok(), Some(Format::Mailchimp));
    assert_eq!(" CleverReach ".parse::<Format>().ok(), Some(Format::CleverReach));
    assert_eq!("hubspot".parse::<Format>().ok(), Some(Format::HubSpot));
    assert_eq!("generic".parse::<Format>().ok(), Some(Format::Generic));
    let e = "brevo".parse::<Format>().expect_err("unknown");
    assert!(matches!(e, ImportError::UnknownFormat(_)) && e.to_string().contains("brevo"), "{e}");
}

#[test]
fn a_bad_date_is_a_row_error_and_the_next_row_is_read() {
    let csv = "E-Mail;Geburtsdatum;Werbeeinwilligung E-Mail;Einwilligung vom\n\
               a@example.com;01.02.1980;ja;01.03.2020\n\
               b@example.com;32.13.1980;ja;01.03.2020\n\
               c@example.com;1980-02-01;ja;gestern\n\
               d@example.com;;nein;\n";
    let results = read_bytes(csv.as_bytes(), "kunden.csv", Format::Generic, None);
    assert_eq!(results.len(), 4);
    let e = results[1].as_ref().expect_err("bad birth date");
    assert_eq!((e.row, e.field.as_str(), e.file.as_deref()), (3, "Geburtsdatum", Some("kunden.csv")));
    assert!(e.message.contains("'32.13.1980'"), "{}", e.message);
    assert_eq!(e.to_string(), format!("kunden.csv, row 3, column 'Geburtsdatum': {}", e.message));
    let e = results[2].as_ref().expect_err("bad consent date");
    assert_eq!((e.row, e.field.as_str()), (4, "Einwilligung vom"));
    let last = results[3].as_ref().expect("row 5 is fine");
    assert_eq!(
        (last.row, last.email.as_deref(), &last.status),
        (5, Some("d@example.com"), &SourceStatus::NonSubscribed)
    );
}

fn ascii_rows(n: usize) -> String {
    let mut s = String::from("Email Address,First Name\n");
    for i in 0..n {
        s.push_str(&format!("person{i}@example.com,Name{i}\n"));
    }
    s
}

#[test]
fn invalid_utf8_after_the_sniffed_prefix_is_a_row_error() {
    let mut bytes = ascii_rows(3000).into_bytes();
    assert!(bytes.len() > 64 * 1024);
    bytes.extend_from_slice(b"late@example.com,M\xfcller\nafter@example.com,After\n");
    let rows = open_reader(Cursor::new(bytes), None, Format::Mailchimp, None).expect("opens");
    assert_eq!(rows.encoding(), Encoding::Utf8);
    let results: Vec<_> = rows.collect();
    assert_eq!(results.len(), 3002);
    let e = results[3000].as_ref().expect_err("invalid UTF-8");
    assert_eq!((e.row, e.field.as_str(), e.file.as_deref()), (3002, "First Name", None));
    assert!(e.message.contains("UTF-8") && !e.message.contains("late@"), "{}", e.message);
    assert_eq!(results[3001].as_ref().ok().and_then(|r| r.first_name.as_deref()), Some("After"));
}

#[test]
fn windows_1252_in_the_prefix_is_decoded() {
    let bytes = b"E-Mail;Nachname;Stra\xdfe\r\nm@example.de;M\xfcller-L\xfcdenscheidt;Schlo\xdfstra\xdfe 1\r\n";
    let rows = open_reader(Cursor::new(bytes.to_vec()), None, Format::Generic, None).expect("opens");
    assert_eq!((rows.encoding(), rows.delimiter()), (Encoding::Windows1252, ';'));
    assert_eq!(rows.headers()[2], "Straße");
    let r: Vec<_> = rows.collect();
    let r = r[0].as_ref().expect("row");
    assert_eq!((r.last_name.as_deref(), r.street.as_deref()), (Some("Müller-Lüdenscheidt"), Some("Schloßstraße 1")));
}

#[test]
fn tabs_cr_line_endings_and_utf16_from_excel() {
    let text = "E-Mail\tVorname\rm@example.de\tJürgen\r";
    let rows = open_reader(Cursor::new(text.as_bytes().to_vec()), None, Format::Generic, None).expect("opens");
    assert_eq!((rows.delimiter(), rows.files()[0].line_ending), ('\t', LineEnding::Cr));
    assert_eq!(rows.map(|r| r.ok().and_then(|r| r.first_name)).collect::<Vec<_>>(), [Some("Jürgen".to_string())]);

    let mut utf16 = vec![0xFF, 0xFE];
    utf16.extend("E-Mail\tVorname\r\nm@example.de\tZoë\r\n".encode_utf16().flat_map(u16::to_le_bytes));
    let rows = open_reader(Cursor::new(utf16), None, Format::Generic, None).expect("opens");
    assert_eq!((rows.encoding(), rows.delimiter()), (Encoding::Utf16Le, '\t'));
    assert_eq!(rows.headers(), ["E-Mail", "Vorname"]);
    assert_eq!(rows.map(|r| r.ok().and_then(|r| r.first_name)).collect::<Vec<_>>(), [Some("Zoë".to_string())]);
}

#[test]
fn broken_rows_do_not_stop_the_reader() {
    let csv = "Email Address,First Name,Last Name\n\
               a@example.com,Anna,Alt\n\
               b@example.com,Bert,Bau,extra,cells\n\
               c@example.com,Carl\n\
               d@example.com,Dora,Dorn,,\n\
               e@example.com,\"Emil,Ernst\n";
    let results = read_bytes(csv.as_bytes(), "x.csv", Format::Mailchimp, None);
    let rows: Vec<_> =
        results.iter().map(|r| r.as_ref().map(|r| r.row).map_err(|e| (e.row, e.field.clone()))).collect();
    assert_eq!(rows, [Ok(2), Err((3, WHOLE_ROW.to_string())), Ok(4), Ok(5), Err((6, WHOLE_ROW.to_string()))]);
    let unclosed = results[4].as_ref().expect_err("unclosed quote");
    assert!(unclosed.message.contains("unclosed quote"), "{}", unclosed.message);
    assert!(results[1].as_ref().expect_err("too many").message.contains("5 cells"));
}

#[test]
fn files_without_a_usable_header() {
    let open = |bytes: &[u8]| open_reader(Cursor::new(bytes.to_vec()), Some("kunden.csv"), Format::Generic, None).err();
    let e = open(b"").expect("empty file");
    assert!(matches!(e, ImportError::NoHeader { .. }) && e.to_string().contains("kunden.csv"), "{e}");
    assert!(matches!(open(b";;;\r\na@example.de;;;\r\n"), Some(ImportError::NoHeader { .. })));
    // A file that starts with data: no header names it could use, and none of its data in the message.
    let e = open("juergen.weiss@example.com;030 23125000;Jürgen;Weiß\n".as_bytes()).expect("no header");
    let msg = e.to_string();
    assert!(matches!(e, ImportError::NoContactColumn { .. }), "{msg}");
    assert!(!msg.contains("juergen.weiss") && !msg.contains("23125000"), "{msg}");
    assert!(msg.contains("'Jürgen'") && msg.contains("E-Mail"), "lists found and expected headers: {msg}");
    let only_header = read_bytes(b"E-Mail;Vorname\n", "h.csv", Format::Generic, None);
    assert!(only_header.is_empty());
}

#[test]
fn row_errors_never_quote_contact_data() {
    let csv = "\"Record ID\",\"Email\",\"Unsubscribed from all email\"\n\"1\",\"x@example.com\",\"+49 152 28817386\"\n";
    let results = read_bytes(csv.as_bytes(), "hs.csv", Format::HubSpot, None);
    let e = results[0].as_ref().expect_err("not a flag");
    assert_eq!(e.field, "Unsubscribed from all email");
    assert!(!e.message.contains("28817386") && !e.to_string().contains("x@example.com"), "{e}");
}

/// Hands out one byte per read call, like a slow upload.
struct Trickle<R>(R);
impl<R: Read> Read for Trickle<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = buf.len().min(1);
        self.0.read(&mut buf[..n])
    }
}

#[test]
fn a_trickling_stream_reads_like_the_file() {
    let rel = "cleverreach/cleverreach_empfaenger_export_cp1252_semikolon.csv";
    let (from_file, _) = read_ok(rel, Format::CleverReach, None);
    let file = std::fs::File::open(testdata(rel)).expect("fixture");
    let rows = open_reader(Trickle(file), None, Format::CleverReach, None).expect("opens");
    assert_eq!(rows.encoding(), Encoding::Windows1252);
    let streamed: Vec<_> = rows.map(|r| r.expect("row")).collect();
    let unnamed: Vec<_> = from_file.into_iter().map(|r| ImportRow { file: None, ..r }).collect();
    assert!(streamed == unnamed, "streamed rows differ from the file's");
}

#[test]
fn zip_archives_need_a_seekable_source_and_must_be_intact() {
    let bytes = std::fs::read(testdata("mailchimp/members_export_67bf5f325a.zip")).expect("fixture");
    let e = open_reader(Cursor::new(bytes.clone()), Some("u.zip"), Format::Mailchimp, None).err().expect("stream");
    assert!(matches!(e, ImportError::Zip(_)) && e.to_string().contains("seekable"), "{e}");
    let rows = open_seekable(Cursor::new(bytes.clone()), Some("u.zip"), Format::Mailchimp, None).expect("seekable");
    assert_eq!(rows.files().len(), 3);
    assert_eq!(rows.filter(Result::is_ok).count(), 50);

    // A damaged byte inside the sniffed part of a member stops the whole archive, naming the member.
    let mut damaged = bytes.clone();
    damaged[400] ^= 0x55;
    let e = open_seekable(Cursor::new(damaged), None, Format::Mailchimp, None).err().expect("corrupt");
    assert!(e.to_string().contains("subscribed_members_export_67bf5f325a.csv"), "{e}");

    let e = open_seekable(Cursor::new(bytes[..bytes.len() / 2].to_vec()), None, Format::Mailchimp, None).err();
    assert!(matches!(e, Some(ImportError::Zip(_))), "{e:?}");
}

#[test]
fn missing_files_name_the_path() {
    let e = open_path(&testdata("nowhere/missing.csv"), Format::Generic, None).err().expect("missing");
    assert!(matches!(e, ImportError::Io { .. }) && e.to_string().contains("missing.csv"), "{e}");
}

#[test]
fn damage_late_in_a_large_zip_member_is_a_row_error_at_its_end() {
    use std::io::Write;
    let csv = ascii_rows(5000);
    let mut buf = Cursor::new(Vec::new());
    let mut zip = zip::ZipWriter::new(&mut buf);
    let stored = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    zip.start_file("subscribed_members_export_0000000000.csv", stored).expect("zip");
    zip.write_all(csv.as_bytes()).expect("zip");
    zip.start_file("cleaned_members_export_0000000000.csv", stored).expect("zip");
    zip.write_all(b"Email Address\nx@example.com\n").expect("zip");
    zip.finish().expect("zip");
    let mut bytes = buf.into_inner();
    let at = bytes.windows(14).position(|w| w == b"person4990@exa").expect("late row");
    bytes[at + 6] = b'7';
    let results: Vec<_> =
        open_seekable(Cursor::new(bytes), Some("a.zip"), Format::Mailchimp, None).expect("opens").collect();
    assert_eq!(results.len(), 5002);
    let e = results[5000].as_ref().expect_err("CRC mismatch at the end of the member");
    assert_eq!((e.file.as_deref(), e.field.as_str()), (Some("subscribed_members_export_0000000000.csv"), WHOLE_ROW));
    assert!(e.message.contains("corrupt"), "{}", e.message);
    assert_eq!(results[5001].as_ref().map(|r| r.status.clone()).ok(), Some(SourceStatus::Cleaned));
}

#[test]
fn sheet_rows_count_blank_lines_but_not_breaks_inside_cells() {
    let crlf = "Email Address,NOTES\r\na@example.com,\"zwei\r\nZeilen\"\r\nb@example.com,x\r\n\r\nc@example.com,y\r\nd@example.com,z";
    let lf = crlf.replace("\r\n", "\n");
    for (csv, tail) in
        [(crlf.to_string(), ""), (lf.clone(), ""), (format!("{crlf}\r\n"), "\r\n"), (format!("{lf}\n"), "\n")]
    {
        let rows: Vec<_> = read_bytes(csv.as_bytes(), "n.csv", Format::Mailchimp, None)
            .into_iter()
            .map(|r| r.map(|r| (r.row, r.email.unwrap_or_default())).map_err(|e| e.to_string()))
            .collect();
        let want = [(2, "a@example.com"), (3, "b@example.com"), (5, "c@example.com"), (6, "d@example.com")];
        assert_eq!(rows, want.map(|(n, e)| Ok((n, e.to_string()))), "{:?} ending {tail:?}", &csv[19..21]);
    }
}

#[test]
fn an_unclosed_quote_cannot_swallow_the_memory() {
    let mut csv = String::from("E-Mail;Notiz\na@example.de;\"offen\n");
    let filler = "b@example.de;Zeile ohne Ende\n";
    while (csv.len() as u64) < konsent_formats::import::MAX_ROW_BYTES + (1 << 20) {
        csv.push_str(filler);
    }
    let results = read_bytes(csv.as_bytes(), "q.csv", Format::Generic, None);
    assert_eq!(results.len(), 1);
    let e = results[0].as_ref().expect_err("row too large");
    assert_eq!((e.row, e.field.as_str()), (2, WHOLE_ROW));
    assert!(e.message.contains("unclosed quote"), "{}", e.message);
}

#[test]
fn garbage_never_panics() {
    // A fixed-seed generator over the bytes parsers trip on: quotes, delimiters, line breaks,
    // digits and date punctuation, BOM and Windows-1252/UTF-8 lead bytes.
    const ALPHABET: &[u8] = b"\"\";,;\t\r\n\n0123456789.-:/ @aeZ+()\xef\xbb\xbf\xc3\xfc\xe2\x80";
    let headers = [
        "\"Email Address\",OPTIN_TIME,CONFIRM_TIME,TAGS,Birthday,E-Mail-Newsletter,UNSUB_TIME\n",
        "email;activated;registered;deactivated;geburtsdatum;einwilligung_datum;bounced;active\r\n",
        "\"Email\",\"Create Date\",\"Date of birth\",\"Unsubscribed from all email\",\"Opted out of email: X\",\"Invalid email address\"\n",
        "E-Mail;Geburtsdatum;Werbeeinwilligung E-Mail;Werbeeinwilligung Telefon;Einwilligung vom;Status\r\n",
    ];
    let formats = [Format::Mailchimp, Format::CleverReach, Format::HubSpot, Format::Generic];
    let mut seed: u64 = 0x5eed_cafe;
    let mut next = || {
        seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        (seed >> 33) as usize
    };
    for round in 0..400 {
        let k = round % 4;
        let mut bytes = headers[k].as_bytes().to_vec();
        let len = next() % 600;
        bytes.extend((0..len).map(|_| ALPHABET[next() % ALPHABET.len()]));
        for format in [formats[k], formats[(k + 1) % 4]] {
            if let Ok(rows) = open_reader(Cursor::new(bytes.clone()), Some("g.csv"), format, None) {
                let mut last = 1;
                for r in rows {
                    let row = r.map(|r| r.row).unwrap_or_else(|e| e.row);
                    assert!(row > last || row == last + 1, "round {round}: row {row} after {last}");
                    last = row;
                }
            }
        }
    }
}
