//! Just enough JSON to write error objects: string escaping (RFC 8259 §7), std only.

use std::fmt::Write as _;

/// `s` as the inside of a JSON string literal (without the surrounding quotes).
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    escape_into(&mut out, s);
    out
}

/// Appends `s`, escaped as the inside of a JSON string literal, to `out`.
pub fn escape_into(out: &mut String, s: &str) {
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            // Other control characters must be escaped; U+2028/U+2029 are legal JSON but
            // break JavaScript string literals, so escape them too (as Python's json does not,
            // but as e.g. Go's encoding/json does).
            c if (c as u32) < 0x20 || c == '\u{2028}' || c == '\u{2029}' => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
}

/// The Runtime API's error object: `{"errorMessage":"..","errorType":".."}`.
pub fn error_body(error_type: &str, message: &str) -> String {
    let mut out = String::with_capacity(message.len() + error_type.len() + 32);
    out.push_str("{\"errorMessage\":\"");
    escape_into(&mut out, message);
    out.push_str("\",\"errorType\":\"");
    escape_into(&mut out, error_type);
    out.push_str("\"}");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_what_json_requires() {
        assert_eq!(escape("plain ünïcode ✓"), "plain ünïcode ✓");
        assert_eq!(escape("a\"b\\c/d"), "a\\\"b\\\\c/d");
        assert_eq!(escape("\n\r\t\u{8}\u{c}"), "\\n\\r\\t\\b\\f");
        assert_eq!(escape("\u{0}\u{1f}\u{7f}"), "\\u0000\\u001f\u{7f}");
        assert_eq!(escape("\u{2028}\u{2029}"), "\\u2028\\u2029");
    }

    #[test]
    fn error_object() {
        assert_eq!(
            error_body("InvalidPayload", "bad \"n\"\n"),
            r#"{"errorMessage":"bad \"n\"\n","errorType":"InvalidPayload"}"#
        );
    }
}
