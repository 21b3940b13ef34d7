//! spoor embedded in a program: ingest real public logs that ship with spoor (OTRF
//! Security-Datasets, Zeek, npm lockfiles and CI logs), run one hunt, then the hunt pack, and
//! print what they found. `cargo run --example embed` (the store goes to a temporary directory).

use spoor::{HuntOptions, Store};

#[tokio::main]
async fn main() -> spoor::Result<()> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = std::env::temp_dir().join(format!("spoor-embed-{}", std::process::id()));
    let store = Store::open(&dir)?;
    let summary =
        store.ingest(&[root.join("tests/data/corpus"), root.join("tests/data/windows")], &Default::default())?;
    println!("{} records read, {} stored", summary.total(|f| f.read), summary.total(|f| f.stored));

    // Which programs did the script host start? Rows come as Arrow batches.
    let hunt = "chain explorer.exe -> wscript.exe -> powershell.exe | select p1.host.name, p2.process.command_line";
    let rows = store.hunt(hunt, &HuntOptions::default()).await?.collect().await?;
    println!(
        "{}",
        arrow::util::pretty::pretty_format_batches(&rows).map_err(|e| spoor::Error::Internal(e.to_string()))?
    );

    // The whole pack, its findings most severe first, as `spoor pack run` prints them.
    let pack = spoor::pack::load(&root.join("hunts"))?;
    let runs = store.run_pack(&pack, &HuntOptions::default()).await?;
    let style = spoor::pack::render::terminal::Style { width: 100, colour: false };
    print!("{}", spoor::pack::render::terminal::render(&runs, style));
    eprint!("{}", spoor::pack::render::summary(&runs));
    std::fs::remove_dir_all(&dir).map_err(|source| spoor::Error::Io { path: dir, source })
}
