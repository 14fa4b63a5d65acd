//! Records the git commit riskpipe is built from (for run manifests), when known.

fn main() {
    println!("cargo:rerun-if-changed=../../.git/HEAD");
    println!("cargo:rerun-if-changed=../../.git/refs/heads");
    let commit = std::process::Command::new("git")
        .args(["rev-parse", "HEAD"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .filter(|c| c.len() == 40);
    if let Some(c) = commit {
        println!("cargo:rustc-env=RISKPIPE_GIT_COMMIT={c}");
    }
}
