//! Hex byte strings as the conformance runner and `--mem` write them:
//! two digits per byte, optionally separated by white space.

/// Parses `"aa bb 0c"` or `"aabb0c"` into bytes.
pub fn parse_hex(text: &str) -> Result<Vec<u8>, String> {
    let digits: Vec<(usize, char)> = text
        .char_indices()
        .filter(|(_, c)| !c.is_whitespace())
        .collect();
    if digits.len() % 2 != 0 {
        return Err(format!(
            "odd number of hex digits ({}): bytes are two digits each",
            digits.len()
        ));
    }
    digits
        .chunks(2)
        .map(|pair| {
            let hi = pair[0].1.to_digit(16);
            let lo = pair[1].1.to_digit(16);
            match (hi, lo) {
                (Some(h), Some(l)) => Ok((h * 16 + l) as u8),
                _ => {
                    let (at, bad) = if hi.is_none() { pair[0] } else { pair[1] };
                    Err(format!("invalid hex digit {bad:?} at offset {at}"))
                }
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::parse_hex;

    #[test]
    fn parses_spaced_and_packed_forms() {
        assert_eq!(parse_hex("aa  bb 0c ").unwrap(), vec![0xaa, 0xbb, 0x0c]);
        assert_eq!(parse_hex("AAbb").unwrap(), vec![0xaa, 0xbb]);
        assert_eq!(parse_hex("").unwrap(), Vec::<u8>::new());
        assert!(parse_hex("a").unwrap_err().contains("odd"));
        assert!(parse_hex("zz").unwrap_err().contains("offset 0"));
    }
}
