//! Architecture invariants, checked from the crates' manifests: dependencies point one way.

use crate::util::repo;

const ORDER: [&str; 6] = ["ingest", "privacy", "features", "train", "evaluate", "deploy"];
const LIBS: [&str; 4] = ["core", "synth", "models", "metrics"];

fn deps(krate: &str) -> Vec<String> {
    let text = fs_err::read_to_string(repo().join("crates").join(krate).join("Cargo.toml")).unwrap();
    let deps = text.split("[dependencies]").nth(1).unwrap_or("");
    let deps = deps.split("\n[").next().unwrap_or("");
    deps.lines()
        .filter_map(|l| l.trim().strip_prefix("riskpipe-"))
        .map(|l| l.split([' ', '=']).next().unwrap().to_string())
        .collect()
}

#[test]
fn dependencies_point_one_way() {
    assert!(deps("core").is_empty(), "core depends on {:?}", deps("core"));
    for lib in ["synth", "models", "metrics"] {
        for d in deps(lib) {
            assert_eq!(d, "core", "library crate {lib} depends on {d}");
        }
    }
    for (i, stage) in ORDER.iter().enumerate() {
        for d in deps(stage) {
            if LIBS.contains(&d.as_str()) {
                continue;
            }
            let j = ORDER
                .iter()
                .position(|s| *s == d)
                .unwrap_or_else(|| panic!("{stage} depends on unknown crate {d}"));
            assert!(j < i, "stage {stage} depends on the later stage {d}");
        }
        let text = fs_err::read_to_string(repo().join("crates").join(stage).join("Cargo.toml")).unwrap();
        assert!(!text.contains("clap"), "stage {stage} depends on clap");
        assert!(!text.contains("anyhow"), "stage {stage} uses anyhow");
    }
}
