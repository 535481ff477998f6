//! The layering of the workspace, checked from the sources (docs/design.md):
//! `entropic-sim` at the ground, `entropic-llm` and `entropic-proofs` side by
//! side above it, the root package `entropic` (its `lab` orchestration layer
//! and the `cmd_*` command modules) on top.
//!
//! Rules, exactly as checked:
//! 1. **Crates.** The `[dependencies]` (not dev-dependencies) of every
//!    `Cargo.toml` between workspace crates form no cycle, and each crate
//!    depends only on the crates below it: sim on none; llm and proofs on
//!    sim only; the root on any. `entropic-llm` depends on neither
//!    `entropic-proofs` nor `clap`.
//! 2. **Modules.** Each crate's files are found by walking `mod x;` from its
//!    root (`lib.rs`, or `main.rs` for the binary), `#[path]` included; a
//!    file is one module. A file *uses* another when it names a path that
//!    resolves into it: `crate::a::b…`, `super::…` (relative to the file, or
//!    to the inline `mod x { … }` it is written in), `self::…`, or `c::…`
//!    where `c` is a module the file itself declares, in `use` items (braces
//!    expanded) and in expressions alike; the target is the file module
//!    that is the longest prefix of the path. Comments are skipped.
//!    - No cycle: no two files use each other, directly or through others.
//!    - No upward import: no file uses its crate root. The root
//!      (`lib.rs`/`main.rs`) declares modules, re-exports for users outside
//!      the crate and holds `main`; an item it defines or re-exports
//!      (`crate::Foo`) is never imported by a file inside the crate, which
//!      names the defining module instead (`crate::error::Foo`).
//!
//! The checker is tested on small synthetic trees below (each rule must
//! fire), then run on the real workspace. (Over 600 lines: a small parser
//! of Rust paths, its tests and the checks, kept in one file so the rules
//! and their implementation are read together.)
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Module path (segments from the crate root; empty = the root).
type ModPath = Vec<String>;

/// The file modules of one crate and the uses between them.
#[derive(Debug, Default)]
struct Crate {
    /// Module path → file (relative to the crate's source folder).
    files: BTreeMap<ModPath, String>,
    /// Module → the modules it uses (edges; self-uses left out).
    uses: BTreeMap<ModPath, BTreeSet<ModPath>>,
}

/// Removes `//` comments (to the end of the line) and `/* */` blocks.
/// Strings are not parsed: a `//` inside a string only shortens that line.
fn strip_comments(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut in_block = false;
    for line in text.lines() {
        let mut l = line;
        let mut kept = String::new();
        loop {
            if in_block {
                match l.find("*/") {
                    Some(i) => {
                        l = &l[i + 2..];
                        in_block = false;
                    }
                    None => break,
                }
            } else {
                let lc = l.find("//");
                let bc = l.find("/*");
                match (lc, bc) {
                    (Some(a), Some(b)) if b < a => {
                        kept.push_str(&l[..b]);
                        l = &l[b + 2..];
                        in_block = true;
                    }
                    (None, Some(b)) => {
                        kept.push_str(&l[..b]);
                        l = &l[b + 2..];
                        in_block = true;
                    }
                    (Some(a), _) => {
                        kept.push_str(&l[..a]);
                        break;
                    }
                    (None, None) => {
                        kept.push_str(l);
                        break;
                    }
                }
            }
        }
        out.push_str(&kept);
        out.push('\n');
    }
    out
}

fn is_ident_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// `mod name;` declarations of a file (with their `#[path]`), at any depth
/// of inline modules (only those outside inline modules are files of their
/// own in this workspace; inline ones with `mod x;` inside are not used).
fn declared_mods(text: &str) -> Vec<(String, Option<String>)> {
    let mut out = Vec::new();
    let mut path_attr: Option<String> = None;
    for line in text.lines() {
        let t = line.trim();
        if let Some(rest) = t.strip_prefix("#[path = \"") {
            path_attr = rest.split('"').next().map(str::to_string);
            continue;
        }
        let t2 = t
            .strip_prefix("pub(crate) ")
            .or_else(|| t.strip_prefix("pub "))
            .unwrap_or(t);
        if let Some(rest) = t2.strip_prefix("mod ") {
            if let Some(name) = rest.strip_suffix(';') {
                out.push((name.trim().to_string(), path_attr.take()));
                continue;
            }
        }
        if !t.starts_with("#[") {
            path_attr = None;
        }
    }
    out
}

/// Expands a `use` tree (`a::{b, c::{d, e}}`) into paths.
fn expand_use(tree: &str) -> Vec<String> {
    let tree = tree.trim();
    let Some(open) = tree.find('{') else {
        return vec![tree.split(" as ").next().unwrap_or(tree).trim().to_string()];
    };
    let prefix = tree[..open].trim_end_matches("::").trim();
    let inner = &tree[open + 1..tree.rfind('}').unwrap_or(tree.len())];
    let mut parts = Vec::new();
    let (mut depth, mut start) = (0, 0);
    for (i, c) in inner.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(&inner[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&inner[start..]);
    parts
        .into_iter()
        .filter(|p| !p.trim().is_empty())
        .flat_map(expand_use)
        .map(|p| {
            if p == "self" {
                prefix.to_string()
            } else if prefix.is_empty() {
                p
            } else {
                format!("{prefix}::{p}")
            }
        })
        .collect()
}

/// Every path written in `text` that starts with `crate`, `super`, `self`
/// or one of `children`, with the inline-module nesting (names) where it is
/// written.
fn named_paths(text: &str, children: &BTreeSet<String>) -> Vec<(Vec<String>, Vec<String>)> {
    let mut out = Vec::new();
    // (indentation, name) of the open inline modules.
    let mut inline: Vec<(usize, String)> = Vec::new();
    let mut use_buf: Option<String> = None;
    for line in text.lines() {
        let indent = line.len() - line.trim_start().len();
        let t = line.trim();
        if let Some((i, _)) = inline.last() {
            if t == "}" && indent == *i {
                inline.pop();
                continue;
            }
        }
        let t2 = t
            .strip_prefix("pub(crate) ")
            .or_else(|| t.strip_prefix("pub "))
            .unwrap_or(t);
        if let Some(rest) = t2.strip_prefix("mod ") {
            if let Some(name) = rest.strip_suffix('{') {
                inline.push((indent, name.trim().to_string()));
                continue;
            }
        }
        let nest: Vec<String> = inline.iter().map(|x| x.1.clone()).collect();
        // `use` items, possibly over several lines.
        let mut b = match use_buf.take() {
            Some(mut b) => {
                b.push_str(t);
                b
            }
            None => match t2.strip_prefix("use ") {
                Some(rest) => rest.to_string(),
                None => {
                    for p in inline_paths(t, children) {
                        out.push((nest.clone(), p));
                    }
                    continue;
                }
            },
        };
        if !b.trim_end().ends_with(';') {
            use_buf = Some(b);
        } else {
            b = b.trim_end().trim_end_matches(';').to_string();
            for p in expand_use(&b) {
                let segs: Vec<String> = p.split("::").map(|s| s.trim().to_string()).collect();
                let first = segs[0].as_str();
                if matches!(first, "crate" | "super" | "self") || children.contains(first) {
                    out.push((nest.clone(), segs));
                }
            }
        }
    }
    out
}

/// Paths in an expression line: `crate::…`, `super::…`, `self::…` or
/// `child::…` not preceded by an identifier character or `::`.
fn inline_paths(line: &str, children: &BTreeSet<String>) -> Vec<Vec<String>> {
    let chars: Vec<char> = line.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let prev_ok = i == 0 || !(is_ident_char(chars[i - 1]) || chars[i - 1] == ':');
        if prev_ok && is_ident_char(chars[i]) {
            let mut j = i;
            let mut segs = Vec::new();
            loop {
                let s = j;
                while j < chars.len() && is_ident_char(chars[j]) {
                    j += 1;
                }
                segs.push(chars[s..j].iter().collect::<String>());
                if j + 2 < chars.len()
                    && chars[j] == ':'
                    && chars[j + 1] == ':'
                    && is_ident_char(chars[j + 2])
                {
                    j += 2;
                } else {
                    break;
                }
            }
            let first = segs[0].as_str();
            if segs.len() > 1
                && (matches!(first, "crate" | "super" | "self") || children.contains(first))
            {
                out.push(segs);
            }
            i = j.max(i + 1);
        } else {
            i += 1;
        }
    }
    out
}

/// Resolves `segs` written in module `here` into an absolute module path.
fn absolute(here: &[String], segs: &[String]) -> Option<ModPath> {
    let mut base: ModPath;
    let mut rest = segs;
    match segs.first().map(String::as_str) {
        Some("crate") => {
            base = Vec::new();
            rest = &segs[1..];
        }
        Some("self") => {
            base = here.to_vec();
            rest = &segs[1..];
        }
        Some("super") => {
            base = here.to_vec();
            while rest.first().map(String::as_str) == Some("super") {
                base.pop()?;
                rest = &rest[1..];
            }
        }
        _ => base = here.to_vec(), // a child module of `here`
    }
    base.extend(rest.iter().cloned());
    Some(base)
}

/// Reads a crate from `files` (path relative to the source folder → text),
/// starting at `root` (`lib.rs` or `main.rs`).
fn read_crate(files: &BTreeMap<String, String>, root: &str) -> Result<Crate, String> {
    let mut c = Crate::default();
    let mut stack: Vec<(ModPath, String)> = vec![(Vec::new(), root.to_string())];
    let mut texts: BTreeMap<ModPath, String> = BTreeMap::new();
    let mut children: BTreeMap<ModPath, BTreeSet<String>> = BTreeMap::new();
    while let Some((m, file)) = stack.pop() {
        let raw = files
            .get(&file)
            .ok_or_else(|| format!("module {} declared but {file} not found", m.join("::")))?;
        let text = strip_comments(raw);
        // Folder of this file's children: `a/b.rs` → `a/b/`, `a/mod.rs`,
        // `lib.rs`, `main.rs` → `a/` or the root folder.
        let stem_dir = {
            let p = Path::new(&file);
            let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
            let parent = p.parent().map(Path::to_path_buf).unwrap_or_default();
            if m.is_empty() || name == "mod.rs" {
                parent
            } else {
                parent.join(p.file_stem().unwrap_or_default())
            }
        };
        let mut kids = BTreeSet::new();
        for (name, path_attr) in declared_mods(&text) {
            let parent = Path::new(&file).parent().map(Path::to_path_buf);
            let child_file = match path_attr {
                Some(pth) => parent.unwrap_or_default().join(pth),
                None => {
                    let a = stem_dir.join(format!("{name}.rs"));
                    if files.contains_key(&slash(&a)) {
                        a
                    } else {
                        stem_dir.join(&name).join("mod.rs")
                    }
                }
            };
            let mut cm = m.clone();
            cm.push(name.clone());
            kids.insert(name);
            stack.push((cm, slash(&child_file)));
        }
        c.files.insert(m.clone(), file);
        children.insert(m.clone(), kids);
        texts.insert(m, text);
    }
    for (m, text) in &texts {
        let mut targets = BTreeSet::new();
        for (nest, segs) in named_paths(text, &children[m]) {
            let mut here = m.clone();
            here.extend(nest);
            let Some(abs) = absolute(&here, &segs) else {
                return Err(format!(
                    "{}: `{}` goes above the crate root",
                    c.files[m],
                    segs.join("::")
                ));
            };
            // The longest prefix of `abs` that is a file module.
            let target = (0..=abs.len())
                .rev()
                .map(|k| abs[..k].to_vec())
                .find(|p| c.files.contains_key(p))
                .unwrap_or_default();
            if &target != m {
                targets.insert(target);
            }
        }
        c.uses.insert(m.clone(), targets);
    }
    Ok(c)
}

fn slash(p: &Path) -> String {
    p.to_string_lossy().replace('\\', "/")
}

/// One cycle of a directed graph, if any (as the list of its nodes).
fn find_cycle<N: Ord + Clone>(edges: &BTreeMap<N, BTreeSet<N>>) -> Option<Vec<N>> {
    // 0 unvisited, 1 on the stack, 2 done.
    fn dfs<N: Ord + Clone>(
        n: &N,
        edges: &BTreeMap<N, BTreeSet<N>>,
        state: &mut BTreeMap<N, u8>,
        path: &mut Vec<N>,
    ) -> Option<Vec<N>> {
        state.insert(n.clone(), 1);
        path.push(n.clone());
        for m in edges.get(n).into_iter().flatten() {
            match state.get(m).copied().unwrap_or(0) {
                1 => {
                    let i = path.iter().position(|x| x == m).unwrap_or(0);
                    let mut cyc = path[i..].to_vec();
                    cyc.push(m.clone());
                    return Some(cyc);
                }
                0 => {
                    if let Some(c) = dfs(m, edges, state, path) {
                        return Some(c);
                    }
                }
                _ => {}
            }
        }
        path.pop();
        state.insert(n.clone(), 2);
        None
    }
    let mut state = BTreeMap::new();
    for n in edges.keys() {
        if state.get(n).copied().unwrap_or(0) == 0 {
            if let Some(c) = dfs(n, edges, &mut state, &mut Vec::new()) {
                return Some(c);
            }
        }
    }
    None
}

/// The rule-2 violations of one crate (`name` labels the messages).
fn module_violations(name: &str, c: &Crate) -> Vec<String> {
    let show = |m: &ModPath| format!("{name}:{}", c.files[m]);
    let mut v = Vec::new();
    for (m, ts) in &c.uses {
        if !m.is_empty() && ts.contains(&Vec::new()) {
            v.push(format!(
                "upward import: {} uses an item of its crate root {}; name the defining module",
                show(m),
                show(&Vec::new())
            ));
        }
    }
    // One cycle per group of mutually reachable modules, so that every
    // cycle is reported, not only the first.
    let mut reported: BTreeSet<ModPath> = BTreeSet::new();
    for m in c.uses.keys() {
        if reported.contains(m) {
            continue;
        }
        let from_m = reachable(&c.uses, m);
        let group: BTreeMap<ModPath, BTreeSet<ModPath>> = c
            .uses
            .iter()
            .filter(|(n, _)| from_m.contains(*n) && reachable(&c.uses, n).contains(m))
            .map(|(n, ts)| (n.clone(), ts.clone()))
            .collect();
        if let Some(cyc) = find_cycle(&group) {
            let names: Vec<String> = cyc.iter().map(show).collect();
            v.push(format!("module cycle: {}", names.join(" -> ")));
            reported.extend(group.into_keys());
        }
    }
    v
}

/// The nodes reachable from `n` (itself included).
fn reachable<N: Ord + Clone>(edges: &BTreeMap<N, BTreeSet<N>>, n: &N) -> BTreeSet<N> {
    let mut seen = BTreeSet::from([n.clone()]);
    let mut todo = vec![n.clone()];
    while let Some(x) = todo.pop() {
        for y in edges.get(&x).into_iter().flatten() {
            if seen.insert(y.clone()) {
                todo.push(y.clone());
            }
        }
    }
    seen
}

/// The internal `[dependencies]` of a Cargo.toml text (package names), and
/// whether it depends on each of `watch`.
fn deps(cargo_toml: &str) -> BTreeSet<String> {
    let t: toml::Table = cargo_toml.parse().expect("Cargo.toml parses");
    t.get("dependencies")
        .and_then(|d| d.as_table())
        .map(|d| d.keys().cloned().collect())
        .unwrap_or_default()
}

/// Rule-1 violations for `crates` (package name → its dependency names).
fn crate_violations(crates: &BTreeMap<String, BTreeSet<String>>) -> Vec<String> {
    let allowed: BTreeMap<&str, &[&str]> = [
        ("entropic-sim", &[][..]),
        ("entropic-llm", &["entropic-sim"][..]),
        ("entropic-proofs", &["entropic-sim"][..]),
        (
            "entropic",
            &["entropic-sim", "entropic-llm", "entropic-proofs"][..],
        ),
    ]
    .into_iter()
    .collect();
    let mut v = Vec::new();
    let internal: BTreeMap<String, BTreeSet<String>> = crates
        .iter()
        .map(|(k, ds)| {
            let ds = ds.iter().filter(|d| crates.contains_key(*d)).cloned();
            (k.clone(), ds.collect())
        })
        .collect();
    if let Some(cyc) = find_cycle(&internal) {
        v.push(format!("crate cycle: {}", cyc.join(" -> ")));
    }
    for (k, ds) in &internal {
        let ok = allowed.get(k.as_str()).copied().unwrap_or(&[]);
        for d in ds {
            if !ok.contains(&d.as_str()) {
                v.push(format!("crate layering: {k} must not depend on {d}"));
            }
        }
    }
    if let Some(ds) = crates.get("entropic-llm") {
        for bad in ["entropic-proofs", "clap"] {
            if ds.contains(bad) {
                v.push(format!("entropic-llm must not depend on {bad}"));
            }
        }
    }
    v
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Every `.rs` file under `dir`, relative to it.
fn rs_files(dir: &Path) -> BTreeMap<String, String> {
    fn walk(base: &Path, d: &Path, out: &mut BTreeMap<String, String>) {
        for e in std::fs::read_dir(d).expect("read_dir").flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(base, &p, out);
            } else if p.extension().is_some_and(|x| x == "rs") {
                let rel = slash(p.strip_prefix(base).expect("under base"));
                out.insert(rel, std::fs::read_to_string(&p).expect("read"));
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

fn synthetic(files: &[(&str, &str)], root: &str) -> Vec<String> {
    let m: BTreeMap<String, String> = files
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
    module_violations("t", &read_crate(&m, root).expect("reads"))
}

#[test]
fn checker_finds_each_kind_of_violation() {
    // A clean tree: parent uses child, child uses a sibling, inline tests use super.
    let clean = synthetic(
        &[
            ("lib.rs", "pub mod a;\npub mod b;\npub use a::X;\n"),
            (
                "a/mod.rs",
                "mod c;\nuse c::Y;\npub struct X;\n#[cfg(test)]\nmod tests {\n    use super::*;\n}\n",
            ),
            ("a/c.rs", "use crate::b::Z;\npub struct Y;\n"),
            ("b.rs", "pub struct Z;\n// use crate::a::X; (a comment)\n"),
        ],
        "lib.rs",
    );
    assert!(clean.is_empty(), "{clean:?}");
    // Two files using each other (one through an expression path).
    let cyc = synthetic(
        &[
            ("lib.rs", "mod a;\nmod b;\n"),
            ("a.rs", "use crate::b::{self, Z};\npub struct X;\n"),
            ("b.rs", "pub struct Z;\nfn f() { let _ = crate::a::X; }\n"),
        ],
        "lib.rs",
    );
    assert!(cyc.iter().any(|v| v.starts_with("module cycle")), "{cyc:?}");
    // A child using its parent's item while the parent uses the child.
    let up_down = synthetic(
        &[
            ("main.rs", "mod m;\n"),
            ("m/mod.rs", "mod k;\npub use k::K;\npub struct P;\n"),
            ("m/k.rs", "use super::P;\npub struct K;\n"),
        ],
        "main.rs",
    );
    assert!(
        up_down.iter().any(|v| v.starts_with("module cycle")),
        "{up_down:?}"
    );
    // An item of the crate root imported by a module, directly or by `super`.
    for body in [
        "use crate::Foo;\n",
        "use super::Foo;\n",
        "use crate::{a, Foo};\n",
    ] {
        let up = synthetic(
            &[("main.rs", "mod a;\npub struct Foo;\n"), ("a.rs", body)],
            "main.rs",
        );
        assert!(
            up.iter().any(|v| v.starts_with("upward import")),
            "{body}: {up:?}"
        );
    }
    // Crates: a cycle, a layer skipped upwards, and llm on proofs or clap.
    let mut crates: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let set = |xs: &[&str]| xs.iter().map(|s| s.to_string()).collect::<BTreeSet<_>>();
    crates.insert("entropic-sim".into(), set(&["entropic-llm"]));
    crates.insert(
        "entropic-llm".into(),
        set(&["entropic-sim", "entropic-proofs", "clap"]),
    );
    crates.insert("entropic-proofs".into(), set(&["entropic-sim"]));
    crates.insert("entropic".into(), set(&["entropic-sim"]));
    let v = crate_violations(&crates);
    for want in [
        "crate cycle",
        "entropic-sim must not depend on entropic-llm",
        "entropic-llm must not depend on entropic-proofs",
        "entropic-llm must not depend on clap",
    ] {
        assert!(v.iter().any(|x| x.contains(want)), "{want}: {v:?}");
    }
}

#[test]
fn crates_are_layered() {
    let r = root();
    let mut crates = BTreeMap::new();
    for (name, dir) in [
        ("entropic", "."),
        ("entropic-sim", "sim"),
        ("entropic-llm", "llm"),
        ("entropic-proofs", "proofs"),
    ] {
        let text = std::fs::read_to_string(r.join(dir).join("Cargo.toml")).expect("Cargo.toml");
        crates.insert(name.to_string(), deps(&text));
    }
    let v = crate_violations(&crates);
    assert!(v.is_empty(), "{}", v.join("\n"));
}

#[test]
fn modules_have_no_cycles_and_no_upward_imports() {
    let r = root();
    let mut all = Vec::new();
    let mut files_seen = 0;
    for (name, dir, roots) in [
        ("sim", "sim/src", &["lib.rs"][..]),
        ("llm", "llm/src", &["lib.rs"][..]),
        ("proofs", "proofs/src", &["lib.rs"][..]),
        ("entropic", "src", &["main.rs"][..]),
    ] {
        let files = rs_files(&r.join(dir));
        for root in roots {
            let c = read_crate(&files, root).unwrap_or_else(|e| panic!("{name}: {e}"));
            files_seen += c.files.len();
            all.extend(module_violations(name, &c));
        }
    }
    // The walk found the crates' files (not an empty, vacuous pass).
    assert!(files_seen > 60, "only {files_seen} files found");
    assert!(all.is_empty(), "{}", all.join("\n"));
}
