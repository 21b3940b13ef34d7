//! Release builds link the `spoor` executable with the functions it runs side by side, in the
//! order of `build/text-order.txt` (lld's `--symbol-ordering-file`). The kernel maps an
//! executable's code in blocks around each page a run touches; with the 15-20 MB of code a run
//! executes scattered through 150 MB, a pack of SigmaHQ's rules kept 77 MiB of it resident, and
//! 38 MiB linked this way. `scripts/text-order` writes the list and says how.
//!
//! Only where the linker is known to take the list: x86_64 Linux (GNU), whose default linker
//! since Rust 1.90 is the toolchain's lld, unless the build names a linker of its own.
//! `SPOOR_TEXT_ORDER=0` turns it off, `=1` on whatever the linker.

use std::env;
use std::io::BufRead;
use std::path::Path;

const ORDER: &str = "build/text-order.txt";

fn main() {
    println!("cargo:rerun-if-changed={ORDER}");
    println!("cargo:rerun-if-env-changed=SPOOR_TEXT_ORDER");
    let var = |name: &str| env::var(name).unwrap_or_default();
    let default_linker = var("TARGET") == "x86_64-unknown-linux-gnu"
        && env::var_os("RUSTC_LINKER").is_none()
        && !var("CARGO_ENCODED_RUSTFLAGS").contains("linker");
    let wanted = match var("SPOOR_TEXT_ORDER").as_str() {
        "0" => false,
        "1" => true,
        _ => default_linker,
    };
    let order = Path::new(&var("CARGO_MANIFEST_DIR")).join(ORDER);
    if wanted && var("PROFILE") == "release" && order.exists() {
        println!("cargo:rustc-link-arg-bins=-Wl,--symbol-ordering-file={}", order.display());
        // A name the build does not have (another compiler's hashes) is passed over in silence.
        println!("cargo:rustc-link-arg-bins=-Wl,--no-warn-symbol-ordering");
        warn_if_stale(&order, &var("RUSTC"));
    }
}

/// The list names functions by the hashes one compiler gave them: with another, few names match
/// and the memory it saves is lost (the executable works the same).
fn warn_if_stale(order: &Path, rustc: &str) {
    // The header line only: the list is 2 MB.
    let mut header = String::new();
    let read = std::fs::File::open(order).map(std::io::BufReader::new).and_then(|mut f| f.read_line(&mut header));
    let written_with = read.ok().and_then(|_| Some(header.split(" with ").nth(1)?.split(": ").next()?.to_string()));
    let this = std::process::Command::new(rustc).arg("--version").output().ok();
    let this = this.map(|out| String::from_utf8_lossy(&out.stdout).trim().to_string());
    if let (Some(written_with), Some(this)) = (written_with, this)
        && written_with != this
    {
        println!(
            "cargo:warning={ORDER} was written with {written_with}, this build uses {this}: run \
             scripts/text-order to keep spoor's code in less memory (docs/performance.md)"
        );
    }
}
