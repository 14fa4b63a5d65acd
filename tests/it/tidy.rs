//! Architecture invariants, checked from the crates' manifests and sources: dependencies point
//! one way, and only the models crate knows the model variants.

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

/// Every `.rs` file under `dir`, with its text.
fn sources(dir: &std::path::Path) -> Vec<(std::path::PathBuf, String)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in fs_err::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "rs") {
                let text = fs_err::read_to_string(&p).unwrap();
                out.push((p, text));
            }
        }
    }
    out
}

/// Lines that name a variant of `ty` (`Model::Tree`, `ModelParams::Logistic`, ...).
fn variant_uses(text: &str, ty: &str) -> Vec<String> {
    let needle = format!("{ty}::");
    text.lines()
        .filter(|l| {
            l.match_indices(&needle).any(|(i, _)| {
                let before = l[..i].chars().next_back();
                let after = l[i + needle.len()..].chars().next();
                !before.is_some_and(|c| c.is_alphanumeric() || c == '_') && after.is_some_and(char::is_uppercase)
            })
        })
        .map(str::to_string)
        .collect()
}

#[test]
fn only_the_models_crate_knows_the_model_variants() {
    assert!(!variant_uses("let m = Model::Tree(t);", "Model").is_empty());
    assert!(variant_uses("let m = Model::logistic(x); let f = Family::ALL;", "Model").is_empty());
    for krate in [
        "core", "synth", "metrics", "ingest", "privacy", "features", "train", "evaluate", "deploy", "cli",
    ] {
        for (path, text) in sources(&repo().join("crates").join(krate)) {
            for ty in ["Model", "ModelParams"] {
                let uses = variant_uses(&text, ty);
                assert!(
                    uses.is_empty(),
                    "{} matches on {ty} variants; ask the model instead:\n{}",
                    path.display(),
                    uses.join("\n")
                );
            }
        }
    }
}
