//! example-site: its IPAs are what the generator makes, and it builds to a site whose every
//! install link leads to a manifest in the output that names an IPA in the output.

use std::path::Path;

use crate::support::*;

fn example_root() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/example-site"))
}

#[test]
fn example_ipas_are_what_the_generator_makes() {
    for (path, bytes) in crate::example_ipas::example_ipas() {
        let committed =
            std::fs::read(example_root().join(path)).unwrap_or_else(|e| panic!("{path}: {e}"));
        assert!(
            committed == bytes,
            "{path} differs from its generator: run `cargo run --example gen_example_site`"
        );
    }
}

#[test]
fn example_site_builds_with_working_install_links() {
    let out = tempfile::tempdir().unwrap();
    let output = relsite()
        .args(["build", "--no-cache", "--root"])
        .arg(example_root())
        .arg("--output")
        .arg(out.path())
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let files = tree(out.path());
    let mut checked = 0;
    for (path, bytes) in &files {
        if !path.ends_with(".html") {
            continue;
        }
        for link in install_links(&String::from_utf8_lossy(bytes)) {
            let manifest_url = manifest_url_of(&link);
            let manifest = files
                .get(&site_path(&manifest_url))
                .unwrap_or_else(|| panic!("{path}: {manifest_url} is not in the output"));
            let (id, _, _, package) = manifest_facts(manifest);
            let ipa = files
                .get(&site_path(&package))
                .unwrap_or_else(|| panic!("{manifest_url}: {package} is not in the output"));
            let source = std::fs::read_dir(example_root().join("releases"))
                .unwrap()
                .flat_map(|app| walkdir::WalkDir::new(app.unwrap().path()))
                .filter_map(Result::ok)
                .filter(|e| e.path().extension().is_some_and(|x| x == "ipa"))
                .any(|e| std::fs::read(e.path()).unwrap() == *ipa);
            assert!(source, "{package} has the exact bytes of a source IPA");
            assert!(id.starts_with("com.example."));
            checked += 1;
        }
    }
    assert!(checked >= 5, "only {checked} install links found");
    assert!(
        !files.keys().any(|p| p.starts_with("tidetime/3.2.0-420")),
        "the draft stays out"
    );
}
