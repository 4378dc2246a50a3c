//! Output pieces bpftool prints the same way across nouns: hex bytes, the
//! `hex_print` dump, JSON byte arrays, load times.

use serde_json::Value;

/// Bytes as bpftool's `fprint_hex`: `sep` between bytes, two spaces after
/// every 8th, a newline after every 16th.
pub fn hex_bytes(data: &[u8], sep: &str) -> String {
    let mut s = String::new();
    for (i, b) in data.iter().enumerate() {
        if i > 0 {
            if i % 16 == 0 {
                s.push('\n');
            } else if i % 8 == 0 {
                s.push_str("  ");
            } else {
                s.push_str(sep);
            }
        }
        s.push_str(&format!("{b:02x}"));
    }
    s
}

/// Bytes as bpftool's JSON: `["0x01", "0xff"]`.
pub fn json_bytes(data: &[u8]) -> Value {
    Value::Array(
        data.iter()
            .map(|b| Value::String(format!("0x{b:02x}")))
            .collect(),
    )
}

/// bpftool's `hex_print` (for `prog run` output): offset, hex pairs,
/// then the printable characters.
pub fn hex_dump(data: &[u8]) -> String {
    let mut s = String::new();
    for (row, chunk) in data.chunks(16).enumerate() {
        s.push_str(&format!("{:07x}\t", row * 16));
        for j in 0..16 {
            let sp = if j % 2 == 1 { " " } else { "" };
            match chunk.get(j) {
                Some(b) => s.push_str(&format!("{b:02x}{sp}")),
                None => s.push_str(&format!("  {sp}")),
            }
        }
        s.push_str("| ");
        for (j, &b) in chunk.iter().enumerate() {
            let c = if (b' '..=b'~').contains(&b) {
                b as char
            } else {
                '.'
            };
            s.push(c);
            if j == 7 {
                s.push(' ');
            }
        }
        s.push('\n');
    }
    s
}

/// Unix seconds as bpftool's `%FT%T%z`, in UTC.
pub fn iso_time(unix: i64) -> String {
    let days = unix.div_euclid(86_400);
    let secs = unix.rem_euclid(86_400);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}+0000",
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    )
}

/// Prints JSON compactly, as `bpftool -j` does.
pub fn print_json(v: &Value) {
    println!("{v}");
}

/// Prints the objects a `show` command found, as bpftool does: with
/// `json`, an array when it listed them `all` (or found other than one),
/// else the one object; as text, each object's text in turn.
pub fn print_shown<T>(
    infos: &[T],
    all: bool,
    json: bool,
    to_json: impl Fn(&T) -> Value,
    to_text: impl Fn(&T) -> String,
) {
    if json {
        let mut v: Vec<Value> = infos.iter().map(to_json).collect();
        if all || v.len() != 1 {
            print_json(&Value::Array(v));
        } else {
            print_json(&v.remove(0));
        }
    } else {
        for i in infos {
            print!("{}", to_text(i));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_forms() {
        assert_eq!(hex_bytes(&[1, 2, 3], " "), "01 02 03");
        let b: Vec<u8> = (0..17).collect();
        assert_eq!(
            hex_bytes(&b, " "),
            "00 01 02 03 04 05 06 07  08 09 0a 0b 0c 0d 0e 0f\n10"
        );
        assert_eq!(
            hex_dump(b"ABCDEFGHIJ"),
            format!(
                "0000000\t4142 4344 4546 4748 494a {}| ABCDEFGH IJ\n",
                " ".repeat(15)
            )
        );
    }

    #[test]
    fn times() {
        assert_eq!(iso_time(0), "1970-01-01T00:00:00+0000");
        assert_eq!(iso_time(1_700_000_000), "2023-11-14T22:13:20+0000");
    }
}
