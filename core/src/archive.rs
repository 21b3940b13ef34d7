//! Archives read member by member: `.zip`, and `.tar` (plain or gzip/zstd-compressed, so
//! `.tar.gz`). Every OTRF Security-Dataset ships as one. Each member is copied to a file of a
//! temporary directory under a name of spoor's own (`member-1`, ...), never under the name it
//! has in the archive, so no archive can write outside that directory; its rows name it
//! `archive.zip!path/in/archive.json`. Members are bounded as compressed files are: a member
//! that inflates past the limits is refused with the reason, and the next one is read.

use std::fs::File;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use crate::input::{self, Decompression, RATIO_FLOOR};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Zip,
    Tar,
}

/// Whether a file is an archive, by its first 512 bytes (a compressed tar's after
/// decompression). Every input is asked, so a plain file costs one read of one block.
pub fn kind(path: &Path, limits: Decompression) -> io::Result<Option<Kind>> {
    let is_tar = |block: &[u8]| block.len() == 512 && &block[257..262] == b"ustar";
    let mut head = Vec::with_capacity(512);
    File::open(path)?.take(512).read_to_end(&mut head)?;
    if head.starts_with(b"PK\x03\x04") {
        return Ok(Some(Kind::Zip));
    }
    if input::Compression::sniff(&head) == input::Compression::None {
        return Ok(is_tar(&head).then_some(Kind::Tar));
    }
    let (_, reader, _) = input::open(path, limits)?;
    let mut block = Vec::with_capacity(512);
    // A read error is reported when the file is read as a log.
    let _ = reader.take(512).read_to_end(&mut block);
    Ok(is_tar(&block).then_some(Kind::Tar))
}

/// One member, unpacked: its name in the archive, and the file holding its bytes.
pub struct Member {
    pub name: String,
    pub file: PathBuf,
}

/// Unpacks the archive's file members one at a time into `dir`, giving each to `each` (and
/// removing it after); a member that cannot be unpacked is given as `Err((name, reason))`.
/// `Err` when the archive itself cannot be read.
pub fn for_each_member<E>(
    path: &Path,
    kind: Kind,
    limits: Decompression,
    dir: &Path,
    mut each: impl FnMut(Result<Member, (String, String)>) -> Result<(), E>,
) -> Result<Result<(), E>, String> {
    let mut number = 0;
    // Unpacks one member to a file of spoor's naming, hands it over, and removes it.
    let mut deliver = |name: String, reader: Result<(&mut dyn Read, u64), String>| -> Result<(), E> {
        number += 1;
        let file = dir.join(format!("member-{number}"));
        let unpacked = reader.and_then(|(reader, compressed)| copy_bounded(reader, &file, compressed, limits));
        let result = each(match unpacked {
            Ok(()) => Ok(Member { name, file: file.clone() }),
            Err(reason) => Err((name, reason)),
        });
        let _ = std::fs::remove_file(&file);
        result
    };
    match kind {
        Kind::Zip => {
            let file = File::open(path).map_err(|e| format!("cannot open: {e}"))?;
            let mut archive = zip::ZipArchive::new(file).map_err(|e| format!("not a readable zip archive: {e}"))?;
            for index in 0..archive.len() {
                let name = archive
                    .name_for_index(index)
                    .and_then(Result::ok)
                    .map_or_else(|| format!("member {}", index + 1), |n| n.into_owned());
                let delivered = match archive.by_index(index) {
                    Ok(entry) if entry.is_dir() => continue,
                    Ok(mut entry) => {
                        let compressed = entry.compressed_size();
                        deliver(name, Ok((&mut entry, compressed)))
                    }
                    Err(e) => deliver(name, Err(format!("cannot unpack: {e}"))),
                };
                if let Err(e) = delivered {
                    return Ok(Err(e));
                }
            }
        }
        Kind::Tar => {
            let (_, reader, _) = input::open(path, limits).map_err(|e| format!("cannot open: {e}"))?;
            let mut archive = tar::Archive::new(reader);
            let entries = archive.entries().map_err(|e| format!("not a readable tar archive: {e}"))?;
            for entry in entries {
                let mut entry = match entry {
                    Ok(entry) => entry,
                    // A damaged header ends the walk: what follows cannot be found.
                    Err(e) => return Err(format!("tar archive damaged after {number} members: {e}")),
                };
                if !entry.header().entry_type().is_file() {
                    continue;
                }
                let name = entry.path().map(|p| p.to_string_lossy().into_owned()).unwrap_or_else(|_| "?".into());
                // The tar stream's decompression is bounded as a whole file's is (by `input`);
                // a member's own bytes are stored, so only the size limit applies to it.
                if let Err(e) = deliver(name, Ok((&mut entry, u64::MAX))) {
                    return Ok(Err(e));
                }
            }
        }
    }
    Ok(Ok(()))
}

/// Copies a member out, stopping past the size limit or, once past [`RATIO_FLOOR`], when it
/// inflates more than the ratio allows over its compressed size.
fn copy_bounded(reader: &mut dyn Read, to: &Path, compressed: u64, limits: Decompression) -> Result<(), String> {
    let mut out = File::create(to).map_err(|e| format!("cannot unpack to {}: {e}", to.display()))?;
    let mut buf = vec![0u8; 256 * 1024];
    let mut produced: u64 = 0;
    loop {
        let n = reader.read(&mut buf).map_err(|e| format!("cannot unpack: {e}"))?;
        if n == 0 {
            return Ok(());
        }
        produced += n as u64;
        if produced > limits.max_bytes {
            return Err(format!(
                "member inflates past the limit of {} bytes (raise it with --max-decompressed)",
                limits.max_bytes
            ));
        }
        if produced > RATIO_FLOOR && produced / compressed.max(1) > limits.max_ratio {
            return Err(format!(
                "member of {compressed} compressed bytes inflates past {produced} bytes, more than {}:1 \
                 (a decompression bomb?); raise the limit with --max-ratio",
                limits.max_ratio
            ));
        }
        out.write_all(&buf[..n]).map_err(|e| format!("cannot unpack to {}: {e}", to.display()))?;
    }
}
