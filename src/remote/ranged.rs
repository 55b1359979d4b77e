//! Reading an IPA in a bucket with a few ranged requests, never the whole object: the end of
//! the file (the zip's end record), the central directory when the end did not hold it, then
//! the entries the IPA reader needs (Info.plist, the profile, the icons), near ones fetched
//! together. The same reader as for local files (`ipa::read_ipa_from`) then runs over the
//! fetched ranges; anything it asks for that was not planned is fetched on demand.
//!
//! Budget per IPA, whatever its size: at most [`MAX_REQUESTS`] requests and [`MAX_BYTES`]
//! bytes for an archive whose central directory fits in it (see `tests/it/storage.rs`).

use std::collections::BTreeMap;
use std::io::{self, Read, Seek, SeekFrom};
use std::ops::Range;
use std::path::Path;

use anyhow::{Result, anyhow};
use bytes::Bytes;

use super::store::{Bucket, Object, sha256_of};
use crate::ipa::{Ipa, ReadOptions};

/// Requests one IPA may take.
pub(crate) const MAX_REQUESTS: usize = 6;
/// Bytes one IPA may take (for central directories of up to about 15,000 entries).
pub(crate) const MAX_BYTES: u64 = 2 * 1024 * 1024;
/// IPAs read from a bucket at once (each waits on its requests' round trips).
pub(crate) const READS_IN_FLIGHT: usize = 16;
/// The first request: the end of the file.
const TAIL_BYTES: u64 = 64 * 1024;
/// Entries closer than this are fetched in one request.
const JOIN_GAP: u64 = 128 * 1024;
/// Room left for what a local header holds beyond its central directory record.
const HEADER_SLACK: u64 = 1024;
/// What a fetch on demand reads beyond what was asked.
const READ_AHEAD: u64 = 64 * 1024;

/// The parts of an object fetched so far, by start offset.
#[derive(Default)]
struct Fetched {
    parts: BTreeMap<u64, Bytes>,
}

impl Fetched {
    fn add(&mut self, start: u64, bytes: Bytes) {
        if !bytes.is_empty() {
            self.parts.insert(start, bytes);
        }
    }

    /// The fetched bytes from `pos` on, as far as one part goes.
    fn at(&self, pos: u64) -> Option<&[u8]> {
        // Parts may overlap (an entry inside the end already fetched): the one reaching
        // furthest past `pos`. There are a handful.
        self.parts
            .range(..=pos)
            .filter_map(|(start, bytes)| {
                let offset = usize::try_from(pos - start).ok()?;
                (offset < bytes.len()).then(|| &bytes[offset..])
            })
            .max_by_key(|rest| rest.len())
    }

    /// Whether all of `range` was fetched in one part.
    fn covers(&self, range: &Range<u64>) -> bool {
        let len = range.end - range.start;
        self.at(range.start)
            .is_some_and(|rest| rest.len() as u64 >= len)
    }

    /// The start of the first part after `pos`.
    fn next_start(&self, pos: u64) -> Option<u64> {
        self.parts.range(pos + 1..).next().map(|(s, _)| *s)
    }

    /// `range`, when fetched in one part.
    fn slice(&self, range: Range<u64>) -> Option<&[u8]> {
        let bytes = self.at(range.start)?;
        let len = usize::try_from(range.end - range.start).ok()?;
        bytes.get(..len)
    }
}

/// A `Read + Seek` view of an object: fetched parts, and a fetch for what is missing.
struct Reader<'a> {
    bucket: &'a Bucket,
    rel: &'a str,
    size: u64,
    pos: u64,
    fetched: Fetched,
}

impl Read for Reader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.pos >= self.size || buf.is_empty() {
            return Ok(0);
        }
        if self.fetched.at(self.pos).is_none() {
            let want = (buf.len() as u64).max(READ_AHEAD);
            let end = (self.pos + want)
                .min(self.size)
                .min(self.fetched.next_start(self.pos).unwrap_or(u64::MAX));
            log::debug!("{}: fetching {}..{end} on demand", self.rel, self.pos);
            let bytes = self
                .bucket
                .get_one_range(self.rel, self.pos..end)
                .map_err(io::Error::other)?;
            if bytes.is_empty() {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "the bucket returned no bytes",
                ));
            }
            self.fetched.add(self.pos, bytes);
        }
        let have = self.fetched.at(self.pos).unwrap_or_default();
        let n = have.len().min(buf.len());
        buf[..n].copy_from_slice(&have[..n]);
        self.pos += n as u64;
        Ok(n)
    }
}

impl Seek for Reader<'_> {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        let pos = match to {
            SeekFrom::Start(p) => Some(p),
            SeekFrom::End(d) => self.size.checked_add_signed(d),
            SeekFrom::Current(d) => self.pos.checked_add_signed(d),
        };
        self.pos = pos.ok_or_else(|| io::Error::other("seek before the start"))?;
        Ok(self.pos)
    }
}

/// Reads what a build needs of the IPA `object` in `bucket`; `path` names it in the result
/// and in messages. The SHA-256 comes from the object's metadata (as `publish` writes it);
/// without it the object is hashed by streaming it once.
pub(crate) fn read_remote_ipa(bucket: &Bucket, object: &Object, path: &Path) -> Result<Ipa> {
    let size = object.size;
    let rel = object.rel.as_str();
    let tail_start = size.saturating_sub(TAIL_BYTES);
    let mut fetched = Fetched::default();
    let (tail, attributes) = bucket.get_range(rel, tail_start..size)?;
    fetched.add(tail_start, tail);
    let mut budget = MAX_BYTES.saturating_sub(size - tail_start);

    if let Some(dir) = fetched
        .slice(tail_start..size)
        .and_then(|t| central_directory(t, tail_start))
    {
        if dir.start < tail_start && tail_start - dir.start <= budget {
            let got = bucket.get_one_range(rel, dir.start..tail_start)?;
            budget -= tail_start - dir.start;
            fetched.add(dir.start, got);
        }
        if let Some(cd) = fetched.slice(dir.start..dir.end) {
            let mut wanted = wanted_ranges(&entries(cd), size);
            wanted.retain(|r| !fetched.covers(r));
            let groups = join(wanted, MAX_REQUESTS - 3, budget);
            if !groups.is_empty() {
                let got = bucket.get_ranges(rel, &groups)?;
                for (r, bytes) in groups.iter().zip(got) {
                    fetched.add(r.start, bytes);
                }
            }
        }
    }
    let reader = Reader {
        bucket,
        rel,
        size,
        pos: 0,
        fetched,
    };
    // Messages name the object (the path that stands for it exists nowhere).
    let url = bucket.url_of(rel);
    let mut ipa = crate::ipa::read_ipa_from(reader, Path::new(&url), ReadOptions { hash: false })
        .map_err(|e| anyhow!("{e}"))?;
    ipa.path = path.to_path_buf();
    ipa.size = size;
    ipa.sha256 = match sha256_of(&attributes) {
        Some(sha) => sha,
        None => {
            log::info!(
                "{}: no sha256 in its metadata (not uploaded with `otasite publish`); hashing it \
                 once by streaming it",
                bucket.url_of(rel)
            );
            hash_object(bucket, rel, size)?
        }
    };
    Ok(ipa)
}

/// Streams `rel` through SHA-256; the object must still be `size` bytes.
fn hash_object(bucket: &Bucket, rel: &str, size: u64) -> Result<String> {
    use sha2::Digest as _;
    let mut hasher = sha2::Sha256::new();
    let total = bucket.stream(rel, &mut |chunk| hasher.update(chunk))?;
    if total != size {
        return Err(anyhow!(
            "{}: changed while it was read ({size} bytes listed, {total} read); build again once \
             the upload is complete",
            bucket.url_of(rel)
        ));
    }
    Ok(crate::ipa::to_hex(&hasher.finalize()))
}

/// Where the central directory lies, from the end of the file (`tail`, starting at `start`).
fn central_directory(tail: &[u8], start: u64) -> Option<Range<u64>> {
    const EOCD: [u8; 4] = [0x50, 0x4b, 0x05, 0x06];
    const LOCATOR: [u8; 4] = [0x50, 0x4b, 0x06, 0x07];
    const EOCD64: [u8; 4] = [0x50, 0x4b, 0x06, 0x06];
    let at = (0..=tail.len().checked_sub(22)?)
        .rev()
        .find(|&i| tail[i..i + 4] == EOCD)?;
    let e = &tail[at..];
    let mut size = u64::from(u32_at(e, 12)?);
    let mut offset = u64::from(u32_at(e, 16)?);
    if (size == 0xFFFF_FFFF || offset == 0xFFFF_FFFF)
        && let Some(loc) = at.checked_sub(20)
        && tail[loc..loc + 4] == LOCATOR
    {
        let eocd64 = u64_at(tail, loc + 8)?;
        let i = usize::try_from(eocd64.checked_sub(start)?).ok()?;
        if tail.get(i..i + 4)? != EOCD64 {
            return None;
        }
        size = u64_at(tail, i + 40)?;
        offset = u64_at(tail, i + 48)?;
    }
    let end = offset.checked_add(size)?;
    (end <= start + at as u64).then_some(offset..end)
}

/// An entry of the central directory: its name, where its local header starts, and its
/// compressed size.
struct Entry {
    name: String,
    header: u64,
    compressed: u64,
    name_and_extra: u64,
}

/// The entries of a central directory (as far as it parses).
fn entries(cd: &[u8]) -> Vec<Entry> {
    let mut out = Vec::new();
    let mut i = 0usize;
    while cd.get(i..i + 4) == Some(&[0x50, 0x4b, 0x01, 0x02]) {
        let (Some(csize), Some(usize_), Some(name_len), Some(extra_len), Some(comment_len)) = (
            u32_at(cd, i + 20),
            u32_at(cd, i + 24),
            u16_at(cd, i + 28),
            u16_at(cd, i + 30),
            u16_at(cd, i + 32),
        ) else {
            break;
        };
        let Some(offset) = u32_at(cd, i + 42) else {
            break;
        };
        let name_start = i + 46;
        let extra_start = name_start + usize::from(name_len);
        let next = extra_start + usize::from(extra_len) + usize::from(comment_len);
        let (Some(name), Some(extra)) = (
            cd.get(name_start..extra_start),
            cd.get(extra_start..extra_start + usize::from(extra_len)),
        ) else {
            break;
        };
        let (mut compressed, mut header) = (u64::from(csize), u64::from(offset));
        // The zip64 extra field holds, in order, the sizes and offset that are 0xFFFFFFFF.
        if let Some(z) = zip64_field(extra) {
            let mut k = 0;
            let mut next64 = || {
                let v = u64_at(z, k);
                k += 8;
                v
            };
            if usize_ == 0xFFFF_FFFF {
                next64();
            }
            if csize == 0xFFFF_FFFF {
                compressed = next64().unwrap_or(compressed);
            }
            if offset == 0xFFFF_FFFF {
                header = next64().unwrap_or(header);
            }
        }
        out.push(Entry {
            name: String::from_utf8_lossy(name).into_owned(),
            header,
            compressed,
            name_and_extra: u64::from(name_len) + u64::from(extra_len),
        });
        i = next;
    }
    out
}

fn zip64_field(mut extra: &[u8]) -> Option<&[u8]> {
    while extra.len() >= 4 {
        let id = u16::from_le_bytes([extra[0], extra[1]]);
        let len = usize::from(u16::from_le_bytes([extra[2], extra[3]]));
        let body = extra.get(4..4 + len)?;
        if id == 1 {
            return Some(body);
        }
        extra = &extra[4 + len..];
    }
    None
}

/// The byte ranges of the entries the IPA reader will read: the main app's Info.plist and
/// profile, and the PNGs at its root that may be icons.
fn wanted_ranges(entries: &[Entry], size: u64) -> Vec<Range<u64>> {
    let Some(app) = crate::ipa::find_main_app(entries.iter().map(|e| e.name.as_str())) else {
        return Vec::new();
    };
    let plist = app.info_plist();
    let profile = app.entry("embedded.mobileprovision");
    let icon = |name: &str| {
        name.strip_prefix(app.dir.as_str()).is_some_and(|file| {
            let lower = file.to_ascii_lowercase();
            !file.contains('/') && lower.ends_with(".png") && lower.contains("icon")
        })
    };
    let mut out: Vec<Range<u64>> = entries
        .iter()
        .filter(|e| e.name == plist || e.name == profile || icon(&e.name))
        .take(2 + crate::limits::MAX_ICON_CANDIDATES)
        .map(|e| {
            let end = e.header + 30 + e.name_and_extra + HEADER_SLACK + e.compressed;
            e.header.min(size)..end.min(size)
        })
        .filter(|r| !r.is_empty())
        .collect();
    out.sort_by_key(|r| r.start);
    out
}

/// Joins sorted ranges into at most `max` requests where the bytes allow: near ones always,
/// then those with the smallest gaps while the total stays within `budget`.
fn join(ranges: Vec<Range<u64>>, max: usize, budget: u64) -> Vec<Range<u64>> {
    let mut out: Vec<Range<u64>> = Vec::new();
    for r in ranges {
        match out.last_mut() {
            Some(last) if r.start <= last.end.saturating_add(JOIN_GAP) => {
                last.end = last.end.max(r.end);
            }
            _ => out.push(r),
        }
    }
    let total = |v: &[Range<u64>]| v.iter().map(|r| r.end - r.start).sum::<u64>();
    while out.len() > max {
        let Some(i) = (0..out.len() - 1).min_by_key(|&i| out[i + 1].start - out[i].end) else {
            break;
        };
        let gap = out[i + 1].start - out[i].end;
        if total(&out) + gap > budget {
            break;
        }
        out[i].end = out[i + 1].end;
        out.remove(i + 1);
    }
    out
}

fn u16_at(b: &[u8], i: usize) -> Option<u16> {
    Some(u16::from_le_bytes(b.get(i..i + 2)?.try_into().ok()?))
}

fn u32_at(b: &[u8], i: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(i..i + 4)?.try_into().ok()?))
}

fn u64_at(b: &[u8], i: usize) -> Option<u64> {
    Some(u64::from_le_bytes(b.get(i..i + 8)?.try_into().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn near_ranges_join_and_far_ones_join_only_within_the_budget() {
        let r = vec![0..10, 20..30, 1_000_000..1_000_010, 5_000_000..5_000_010];
        assert_eq!(
            join(r.clone(), 3, 10_000_000),
            vec![0..30, 1_000_000..1_000_010, 5_000_000..5_000_010]
        );
        assert_eq!(
            join(r.clone(), 2, 10_000_000),
            vec![0..1_000_010, 5_000_000..5_000_010]
        );
        // Joining would cost a megabyte the budget does not have: more requests instead.
        assert_eq!(join(r, 1, 100).len(), 3);
    }

    #[test]
    fn the_central_directory_is_found_from_the_end_record() {
        // An end record (no comment) saying: 100 bytes of directory at offset 900.
        let mut tail = vec![0u8; 10];
        tail.extend_from_slice(&[0x50, 0x4b, 0x05, 0x06, 0, 0, 0, 0, 1, 0, 1, 0]);
        tail.extend_from_slice(&100u32.to_le_bytes());
        tail.extend_from_slice(&900u32.to_le_bytes());
        tail.extend_from_slice(&[0, 0]);
        assert_eq!(central_directory(&tail, 990), Some(900..1000));
        // A directory said to end past the end record is refused.
        assert_eq!(central_directory(&tail, 900), None);
        assert_eq!(central_directory(&[1, 2, 3], 0), None);
    }
}
