//! Line splitting and error helpers shared by the text-format parsers.

use crate::error::{Error, Result};

/// The lines of `bytes` with 1-based numbers, as UTF-8.
///
/// Lines end at `\n`; one trailing `\r` is removed. A final empty segment (the file ends with a
/// newline) is not a line; any other empty line is an error, as is a line that is not UTF-8.
/// Fails with [`Error::EmptyDataset`] when there is no line at all.
pub(crate) fn lines<'a>(bytes: &'a [u8], file: &str) -> Result<Vec<(usize, &'a str)>> {
    let mut segments: Vec<&[u8]> = bytes.split(|&b| b == b'\n').collect();
    if segments.last().is_some_and(|s| s.is_empty()) {
        segments.pop();
    }
    if segments.is_empty() {
        return Err(Error::EmptyDataset {
            file: file.to_owned(),
        });
    }
    segments
        .into_iter()
        .enumerate()
        .map(|(i, seg)| {
            let line = i + 1;
            let seg = seg.strip_suffix(b"\r").unwrap_or(seg);
            let text = std::str::from_utf8(seg)
                .map_err(|_| row_error(file, line, "UTF-8 text", &String::from_utf8_lossy(seg)))?;
            if text.is_empty() {
                return Err(row_error(file, line, "a data row", ""));
            }
            Ok((line, text))
        })
        .collect()
}

/// A [`Error::Dataset`] for field `field` of line `line`.
pub(crate) fn field_error(
    file: &str,
    line: usize,
    field: &'static str,
    expected: &'static str,
    found: &str,
) -> Error {
    Error::Dataset {
        file: file.to_owned(),
        line,
        field,
        expected,
        found: shorten(found),
    }
}

/// A [`Error::Dataset`] about the row as a whole.
pub(crate) fn row_error(file: &str, line: usize, expected: &'static str, found: &str) -> Error {
    field_error(file, line, "row", expected, found)
}

/// At most 40 characters of `s` (on a character boundary), with `…` when cut.
fn shorten(s: &str) -> String {
    const MAX: usize = 40;
    match s.char_indices().nth(MAX) {
        Some((cut, _)) => format!("{}…", &s[..cut]),
        None => s.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_handles_endings() {
        let got = lines(b"a\r\nb\nc", "f").unwrap();
        assert_eq!(got, vec![(1, "a"), (2, "b"), (3, "c")]);
        let got = lines(b"a\n", "f").unwrap();
        assert_eq!(got, vec![(1, "a")]);
        assert!(matches!(lines(b"", "f"), Err(Error::EmptyDataset { .. })));
        assert!(matches!(
            lines(b"a\n\nb\n", "f"),
            Err(Error::Dataset {
                line: 2,
                field: "row",
                ..
            })
        ));
        assert!(matches!(
            lines(b"\n", "f"),
            Err(Error::Dataset { line: 1, .. })
        ));
        assert!(matches!(
            lines(b"a\n\xff\n", "f"),
            Err(Error::Dataset { line: 2, .. })
        ));
    }

    #[test]
    fn shorten_cuts_on_char_boundary() {
        assert_eq!(shorten("abc"), "abc");
        let long = "é".repeat(50);
        let s = shorten(&long);
        assert_eq!(s.chars().count(), 41);
        assert!(s.ends_with('…'));
    }
}
