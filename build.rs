//! Build script of the `entropic` binary: records the git revision the
//! binary is built from as `ENTROPIC_GIT_REV` (read with `option_env!`, so
//! a build without git, e.g. from a source archive, still works and says
//! `null`). Reruns when HEAD or the branch it points to moves, and when a
//! source the binary is built from changes (so an edit not yet staged
//! gives `-dirty`: `entropic map --resume` and every stamp rely on a clean
//! revision meaning that commit's code).
use std::process::Command;

fn git(args: &[&str]) -> Option<String> {
    let o = Command::new("git").args(args).output().ok()?;
    if !o.status.success() {
        return None;
    }
    let s = String::from_utf8(o.stdout).ok()?.trim().to_string();
    (!s.is_empty()).then_some(s)
}

fn main() {
    println!("cargo:rerun-if-env-changed=ENTROPIC_GIT_REV");
    for src in [
        "src",
        "sim/src",
        "proofs/src",
        "llm/src",
        "scenarios",
        "Cargo.lock",
        "build.rs",
    ] {
        println!("cargo:rerun-if-changed={src}");
    }
    if let Some(dir) = git(&["rev-parse", "--git-dir"]) {
        println!("cargo:rerun-if-changed={dir}/HEAD");
        println!("cargo:rerun-if-changed={dir}/index");
        if let Some(r) = git(&["symbolic-ref", "-q", "HEAD"]) {
            if let Some(common) = git(&["rev-parse", "--git-common-dir"]) {
                println!("cargo:rerun-if-changed={common}/{r}");
                println!("cargo:rerun-if-changed={common}/packed-refs");
            }
        }
    }
    if std::env::var_os("ENTROPIC_GIT_REV").is_none() {
        if let Some(rev) = git(&["describe", "--always", "--dirty", "--abbrev=12"]) {
            println!("cargo:rustc-env=ENTROPIC_GIT_REV={rev}");
        }
    }
}
