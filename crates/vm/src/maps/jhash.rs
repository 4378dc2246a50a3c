//! Bob Jenkins' lookup3 hash as the kernel's `include/linux/jhash.h` has
//! it (`jhash`, and `jhash2` over u32 words, which on the little-endian BPF
//! machine gives the same value for the same bytes). Hash maps bucket
//! their keys with it and bloom filters set their bits with it, so with
//! `BPF_F_ZERO_SEED` a userspace map lays out exactly as the kernel's.

const JHASH_INITVAL: u32 = 0xdead_beef;

fn mix(a: &mut u32, b: &mut u32, c: &mut u32) {
    *a = a.wrapping_sub(*c);
    *a ^= c.rotate_left(4);
    *c = c.wrapping_add(*b);
    *b = b.wrapping_sub(*a);
    *b ^= a.rotate_left(6);
    *a = a.wrapping_add(*c);
    *c = c.wrapping_sub(*b);
    *c ^= b.rotate_left(8);
    *b = b.wrapping_add(*a);
    *a = a.wrapping_sub(*c);
    *a ^= c.rotate_left(16);
    *c = c.wrapping_add(*b);
    *b = b.wrapping_sub(*a);
    *b ^= a.rotate_left(19);
    *a = a.wrapping_add(*c);
    *c = c.wrapping_sub(*b);
    *c ^= b.rotate_left(4);
    *b = b.wrapping_add(*a);
}

fn finish(a: &mut u32, b: &mut u32, c: &mut u32) {
    *c ^= *b;
    *c = c.wrapping_sub(b.rotate_left(14));
    *a ^= *c;
    *a = a.wrapping_sub(c.rotate_left(11));
    *b ^= *a;
    *b = b.wrapping_sub(a.rotate_left(25));
    *c ^= *b;
    *c = c.wrapping_sub(b.rotate_left(16));
    *a ^= *c;
    *a = a.wrapping_sub(c.rotate_left(4));
    *b ^= *a;
    *b = b.wrapping_sub(a.rotate_left(14));
    *c ^= *b;
    *c = c.wrapping_sub(b.rotate_left(24));
}

/// Little-endian u32 of up to 4 bytes (missing high bytes are zero), the
/// way the kernel's tail switch adds the last bytes.
fn word(bytes: &[u8]) -> u32 {
    bytes
        .iter()
        .enumerate()
        .fold(0u32, |w, (i, &b)| w | (b as u32) << (8 * i))
}

/// `jhash(key, length, initval)`.
pub fn jhash(key: &[u8], initval: u32) -> u32 {
    let init = JHASH_INITVAL
        .wrapping_add(key.len() as u32)
        .wrapping_add(initval);
    let (mut a, mut b, mut c) = (init, init, init);
    let mut k = key;
    while k.len() > 12 {
        a = a.wrapping_add(word(&k[0..4]));
        b = b.wrapping_add(word(&k[4..8]));
        c = c.wrapping_add(word(&k[8..12]));
        mix(&mut a, &mut b, &mut c);
        k = &k[12..];
    }
    if k.is_empty() {
        return c;
    }
    a = a.wrapping_add(word(&k[..k.len().min(4)]));
    if k.len() > 4 {
        b = b.wrapping_add(word(&k[4..k.len().min(8)]));
    }
    if k.len() > 8 {
        c = c.wrapping_add(word(&k[8..]));
    }
    finish(&mut a, &mut b, &mut c);
    c
}

#[cfg(test)]
mod tests {
    use super::*;

    /// jhash2 as the kernel writes it, over u32 words, to check that
    /// `jhash` of the same bytes agrees.
    fn jhash2(words: &[u32], initval: u32) -> u32 {
        let init = JHASH_INITVAL
            .wrapping_add((words.len() as u32) << 2)
            .wrapping_add(initval);
        let (mut a, mut b, mut c) = (init, init, init);
        let mut k = words;
        while k.len() > 3 {
            a = a.wrapping_add(k[0]);
            b = b.wrapping_add(k[1]);
            c = c.wrapping_add(k[2]);
            mix(&mut a, &mut b, &mut c);
            k = &k[3..];
        }
        match k.len() {
            0 => return c,
            3 => {
                c = c.wrapping_add(k[2]);
                b = b.wrapping_add(k[1]);
                a = a.wrapping_add(k[0]);
            }
            2 => {
                b = b.wrapping_add(k[1]);
                a = a.wrapping_add(k[0]);
            }
            _ => a = a.wrapping_add(k[0]),
        }
        finish(&mut a, &mut b, &mut c);
        c
    }

    #[test]
    fn jhash_and_jhash2_agree_on_words() {
        for n in 0..10u32 {
            let words: Vec<u32> = (0..n)
                .map(|i| i.wrapping_mul(0x9e37_79b9) ^ 0x1234)
                .collect();
            let bytes: Vec<u8> = words.iter().flat_map(|w| w.to_le_bytes()).collect();
            for seed in [0, 1, 0xdead_beef] {
                assert_eq!(jhash(&bytes, seed), jhash2(&words, seed), "n={n}");
            }
        }
    }

    #[test]
    fn known_values() {
        // The empty key hashes to the initial value.
        assert_eq!(jhash(&[], 0), JHASH_INITVAL);
        // lookup3's published hashlittle("", 0) is 0xdeadbeef and
        // hashlittle("Four score and seven years ago", 0) is 0x17770551.
        assert_eq!(jhash(b"Four score and seven years ago", 0), 0x1777_0551);
        assert_eq!(jhash(b"Four score and seven years ago", 1), 0xcd62_8161);
    }
}
