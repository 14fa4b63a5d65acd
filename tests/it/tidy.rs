//! Architecture invariants, checked from the crates' manifests and sources: dependencies point
//! one way, and only the models crate knows the model variants.

use crate::util::repo;

/// The stages in pipeline order, with the scoring library (the bundle's scorer, which replays
/// privacy and features and which evaluate and deploy both use) in its place between them.
const ORDER: [&str; 7] = [
    "ingest", "privacy", "features", "train", "scoring", "evaluate", "deploy",
];
const LIBS: [&str; 6] = ["core", "synth", "models", "metrics", "scorecard", "portfolio"];

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
    for lib in ["synth", "models", "metrics", "portfolio"] {
        for d in deps(lib) {
            assert_eq!(d, "core", "library crate {lib} depends on {d}");
        }
    }
    // The scorecard sits on the models (its stepwise selection fits logistic regressions).
    for d in deps("scorecard") {
        assert!(["core", "models"].contains(&d.as_str()), "scorecard depends on {d}");
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
        "core",
        "synth",
        "metrics",
        "scorecard",
        "ingest",
        "privacy",
        "features",
        "train",
        "evaluate",
        "deploy",
        "cli",
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

/// The top-level module a source file belongs to (`config/boosting.rs` -> `config`).
fn module_of(src: &std::path::Path, file: &std::path::Path) -> String {
    let rel = file.strip_prefix(src).unwrap();
    let first = rel
        .components()
        .next()
        .unwrap()
        .as_os_str()
        .to_string_lossy()
        .into_owned();
    first.trim_end_matches(".rs").to_string()
}

/// Edges `module -> module` of one crate, from `crate::x` paths in its sources.
fn module_edges(src: &std::path::Path) -> std::collections::BTreeSet<(String, String)> {
    let mut edges = std::collections::BTreeSet::new();
    for (path, text) in sources(src) {
        let from = module_of(src, &path);
        // Doc links are not imports.
        let code: String = text
            .lines()
            .filter(|l| !l.trim_start().starts_with("//"))
            .collect::<Vec<_>>()
            .join("\n");
        let text = code;
        for (i, _) in text.match_indices("crate::") {
            if text[..i].ends_with(|c: char| c.is_alphanumeric() || c == '_') {
                continue; // `riskpipe_core::...` and the like
            }
            let to: String = text[i + 7..]
                .chars()
                .take_while(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '_')
                .collect();
            let is_module = src.join(format!("{to}.rs")).is_file() || src.join(&to).is_dir();
            if is_module && to != from && !["lib", "main"].contains(&from.as_str()) {
                edges.insert((from.clone(), to));
            }
        }
    }
    edges
}

/// A cycle among the edges, if there is one.
fn find_cycle(edges: &std::collections::BTreeSet<(String, String)>) -> Option<Vec<String>> {
    fn visit(
        n: &str,
        edges: &std::collections::BTreeSet<(String, String)>,
        path: &mut Vec<String>,
        done: &mut std::collections::BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(i) = path.iter().position(|p| p == n) {
            let mut cycle = path[i..].to_vec();
            cycle.push(n.to_string());
            return Some(cycle);
        }
        if done.contains(n) {
            return None;
        }
        path.push(n.to_string());
        for (_, to) in edges.iter().filter(|(f, _)| f == n) {
            if let Some(c) = visit(to, edges, path, done) {
                return Some(c);
            }
        }
        path.pop();
        done.insert(n.to_string());
        None
    }
    let mut done = std::collections::BTreeSet::new();
    for (from, _) in edges {
        if let Some(c) = visit(from, edges, &mut Vec::new(), &mut done) {
            return Some(c);
        }
    }
    None
}

#[test]
fn no_module_imports_a_module_that_imports_it_back() {
    let circle: std::collections::BTreeSet<(String, String)> = [("run", "report"), ("report", "run")]
        .map(|(a, b)| (a.into(), b.into()))
        .into();
    assert!(find_cycle(&circle).is_some(), "the check finds a circle");
    for krate in fs_err::read_dir(repo().join("crates")).unwrap() {
        let src = krate.unwrap().path().join("src");
        if !src.is_dir() {
            continue;
        }
        if let Some(cycle) = find_cycle(&module_edges(&src)) {
            panic!("{}: modules import each other: {}", src.display(), cycle.join(" -> "));
        }
    }
}
