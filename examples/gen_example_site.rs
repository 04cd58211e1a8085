//! Writes the IPAs of `example-site/releases/`. The archives are small but real: run
//! `cargo run --example gen_example_site` after changing this file, and commit the result.
//! A test checks that the committed files are what this generator makes.

#[path = "../tests/testsuite/example_ipas.rs"]
mod example_ipas;
#[path = "../tests/testsuite/ipa_builder.rs"]
mod ipa_builder;

fn main() -> std::io::Result<()> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("example-site");
    for (path, bytes) in example_ipas::example_ipas() {
        let path = root.join(path);
        std::fs::create_dir_all(path.parent().expect("a release folder"))?;
        std::fs::write(&path, bytes)?;
        println!("wrote {}", path.display());
    }
    Ok(())
}
