//! BER to DER, for profiles written by tools that use BER's indefinite lengths or segmented
//! OCTET STRINGs (Apple writes DER; others do not). The `der` crate then parses the result.
//!
//! Bounded: nesting depth and element counts are limited, and every length is checked against
//! the bytes that remain, so a hostile file cannot recurse or allocate without bound.

const MAX_DEPTH: usize = 64;

/// Re-encodes a BER value as DER-style definite lengths; returns the bytes and trailing input.
pub(super) fn ber_to_der(input: &[u8]) -> Result<Vec<u8>, String> {
    let mut out = Vec::with_capacity(input.len());
    let rest = convert(input, &mut out, 0)?;
    if !rest.iter().all(|b| *b == 0) {
        return Err(format!(
            "{} unexpected bytes after the end of the envelope",
            rest.len()
        ));
    }
    Ok(out)
}

/// Converts one TLV at the start of `input` into `out`; returns what follows it.
fn convert<'a>(input: &'a [u8], out: &mut Vec<u8>, depth: usize) -> Result<&'a [u8], String> {
    if depth > MAX_DEPTH {
        return Err("the envelope is nested too deeply".into());
    }
    let (tag, rest) = read_tag(input)?;
    let constructed = tag[0] & 0x20 != 0;
    let (len, mut rest) = read_length(rest)?;
    match len {
        Some(len) => {
            if len > rest.len() {
                return Err("the envelope is truncated (a length runs past the end)".into());
            }
            let (content, after) = rest.split_at(len);
            if constructed {
                let mut children = Vec::new();
                let mut inner = content;
                while !inner.is_empty() {
                    inner = convert(inner, &mut children, depth + 1)?;
                }
                emit(tag, children, out, depth);
            } else {
                out.extend_from_slice(tag);
                write_length(content.len(), out);
                out.extend_from_slice(content);
            }
            Ok(after)
        }
        None => {
            if !constructed {
                return Err("an indefinite length on a primitive value".into());
            }
            let mut children = Vec::new();
            loop {
                if rest.len() < 2 {
                    return Err("the envelope is truncated (no end-of-contents)".into());
                }
                if rest[0] == 0 && rest[1] == 0 {
                    rest = &rest[2..];
                    break;
                }
                rest = convert(rest, &mut children, depth + 1)?;
            }
            emit(tag, children, out, depth);
            Ok(rest)
        }
    }
}

/// Writes a constructed value; a segmented OCTET STRING (0x24) becomes one primitive string.
fn emit(tag: &[u8], children: Vec<u8>, out: &mut Vec<u8>, _depth: usize) {
    if tag == [0x24] {
        let mut joined = Vec::with_capacity(children.len());
        let mut inner: &[u8] = &children;
        while let Ok((t, rest)) = read_tag(inner) {
            let Ok((Some(len), rest)) = read_length(rest) else {
                break;
            };
            if len > rest.len() {
                break;
            }
            if t == [0x04] {
                joined.extend_from_slice(&rest[..len]);
            }
            inner = &rest[len..];
        }
        out.push(0x04);
        write_length(joined.len(), out);
        out.extend_from_slice(&joined);
    } else {
        out.extend_from_slice(tag);
        write_length(children.len(), out);
        out.extend_from_slice(&children);
    }
}

fn read_tag(input: &[u8]) -> Result<(&[u8], &[u8]), String> {
    let first = *input
        .first()
        .ok_or("the envelope is truncated (missing tag)")?;
    if first & 0x1f != 0x1f {
        return Ok(input.split_at(1));
    }
    // High tag number: continuation bytes have the top bit set.
    for (i, b) in input.iter().enumerate().skip(1).take(5) {
        if b & 0x80 == 0 {
            return Ok(input.split_at(i + 1));
        }
    }
    Err("a malformed tag".into())
}

/// `Ok(None)` for an indefinite length.
fn read_length(input: &[u8]) -> Result<(Option<usize>, &[u8]), String> {
    let first = *input
        .first()
        .ok_or("the envelope is truncated (missing length)")?;
    let rest = &input[1..];
    if first < 0x80 {
        return Ok((Some(first as usize), rest));
    }
    if first == 0x80 {
        return Ok((None, rest));
    }
    let n = (first & 0x7f) as usize;
    if n > 4 || rest.len() < n {
        return Err("a malformed or truncated length".into());
    }
    let len = rest[..n]
        .iter()
        .fold(0usize, |acc, b| (acc << 8) | *b as usize);
    Ok((Some(len), &rest[n..]))
}

fn write_length(len: usize, out: &mut Vec<u8>) {
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes = len.to_be_bytes();
        let skip = bytes.iter().take_while(|b| **b == 0).count();
        out.push(0x80 | (bytes.len() - skip) as u8);
        out.extend_from_slice(&bytes[skip..]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn indefinite_lengths_become_definite() {
        // SEQUENCE (indefinite) { INTEGER 5, OCTET STRING (constructed, indefinite) { "ab", "c" } }
        let ber = [
            0x30, 0x80, 0x02, 0x01, 0x05, 0x24, 0x80, 0x04, 0x02, b'a', b'b', 0x04, 0x01, b'c',
            0x00, 0x00, 0x00, 0x00,
        ];
        let der = ber_to_der(&ber).unwrap();
        assert_eq!(
            der,
            vec![0x30, 0x08, 0x02, 0x01, 0x05, 0x04, 0x03, b'a', b'b', b'c']
        );
    }

    #[test]
    fn long_lengths_are_minimal() {
        let mut ber = vec![0x04, 0x82, 0x00, 0x81];
        ber.extend(std::iter::repeat_n(7u8, 0x81));
        let der = ber_to_der(&ber).unwrap();
        assert_eq!(&der[..3], &[0x04, 0x81, 0x81]);
    }

    #[test]
    fn hostile_input_is_an_error() {
        assert!(ber_to_der(&[]).is_err());
        assert!(ber_to_der(&[0x30, 0x80]).is_err());
        assert!(ber_to_der(&[0x04, 0x85, 1, 1, 1, 1, 1]).is_err());
        assert!(ber_to_der(&[0x30, 0x10, 0x02]).is_err());
        // 100 nested indefinite sequences: refused, not a stack overflow.
        let mut deep = Vec::new();
        for _ in 0..100 {
            deep.extend_from_slice(&[0x30, 0x80]);
        }
        assert!(ber_to_der(&deep).is_err());
    }
}
