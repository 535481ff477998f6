//! Every document the code and the docs cite exists, every cited section
//! exists in its page, and no doc comment carries a work marker
//! (docs/design.md §10).
//!
//! Scanned: every `.rs`, `.md`, `.toml` and `.sh` file that git tracks or
//! would track (`git ls-files --cached --others --exclude-standard`); where
//! git is unavailable, a walk of the tree that skips `target/` and `.git/`.
//! This file is not scanned (its examples are broken on purpose), nor the
//! upstream code under `vendor/` (vendor/README.md, ours, is).
//!
//! What counts as a citation (choices of ours, the issue is silent):
//! - a repository path to a Markdown page under `docs/`, `proofs/` or
//!   `reports/` (`docs/mathematics.md`), not preceded by a path character
//!   (so `DIR/reports/x.md` and `/../docs/x.md` are not citations), made of
//!   `[A-Za-z0-9_./-]` and ending in `.md`; resolved from the repository
//!   root. Templates (`proofs/<id>.md`, `proofs/*.md`, `{dir}/report.md`)
//!   stop at the first other character and are therefore not citations;
//! - a bare upper-case page name (`README.md`, `MATH.md`): resolved next to
//!   the citing file, else at the root. Lower-case bare names
//!   (`report.md`, `verification.md`) are output file names in code, not
//!   citations;
//! - in Markdown files, a link target ending in `.md` (`[x](peers.md)`,
//!   `#anchor` stripped, URLs skipped), resolved next to the citing file;
//! - an absolute path ending in `.md` (`/work/notes/X.md`): always an error,
//!   the repository must not cite files outside itself.
//!
//! A section is cited as `<citation> §N` right after a citation (one
//! optional space), also as lists and ranges: `§3, §6`, `§1 and §4`,
//! `§4–§5`. A page declares `§N` with a Markdown heading whose text starts
//! with it: `## §6 Linearised closed loop` (`§N.M` likewise).
//!
//! Work markers: a `//` comment line in a `.rs` file that contains
//! `HELPER-OWNED` or an issue tag, `[` + at least three capitals + an
//! optional `-digits` + `]` (`[SIM]`, `[LLM-2]`).
use std::collections::BTreeMap;
use std::path::Path;

const EXTS: [&str; 4] = [".rs", ".md", ".toml", ".sh"];

/// One broken citation or marker, as `file:line: what`.
type Problem = String;

fn is_path_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '/' | '-')
}

/// The files to scan, relative to `root`, with their text.
fn tree(root: &Path) -> BTreeMap<String, String> {
    let listed = std::process::Command::new("git")
        .args([
            "ls-files",
            "-z",
            "--cached",
            "--others",
            "--exclude-standard",
        ])
        .current_dir(root)
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| {
            String::from_utf8_lossy(&o.stdout)
                .split('\0')
                .filter(|s| !s.is_empty())
                .map(String::from)
                .collect::<Vec<_>>()
        });
    let names = listed.unwrap_or_else(|| {
        let mut out = Vec::new();
        walk(root, root, &mut out);
        out
    });
    let mut files = BTreeMap::new();
    for n in names {
        if !EXTS.iter().any(|e| n.ends_with(e))
            || n.split('/').any(|p| p == "target")
            || (n.starts_with("vendor/") && n != "vendor/README.md")
        {
            continue;
        }
        // A listed file may be deleted in the work tree; skip unreadable ones.
        if let Ok(text) = std::fs::read_to_string(root.join(&n)) {
            files.insert(n, text);
        }
    }
    files
}

fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    for e in rd.flatten() {
        let p = e.path();
        let name = e.file_name().to_string_lossy().into_owned();
        if p.is_dir() {
            if name != "target" && name != ".git" {
                walk(root, &p, out);
            }
        } else if let Ok(rel) = p.strip_prefix(root) {
            out.push(rel.to_string_lossy().replace('\\', "/"));
        }
    }
}

/// `a/b/../c` → `a/c`; `./` parts dropped. `None` when it leaves the root.
fn normalise(path: &str) -> Option<String> {
    let mut parts: Vec<&str> = Vec::new();
    for p in path.split('/') {
        match p {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            _ => parts.push(p),
        }
    }
    Some(parts.join("/"))
}

fn dir_of(file: &str) -> &str {
    file.rfind('/').map_or("", |i| &file[..i])
}

fn join(dir: &str, rel: &str) -> Option<String> {
    if dir.is_empty() {
        normalise(rel)
    } else {
        normalise(&format!("{dir}/{rel}"))
    }
}

/// The sections declared by a page's headings (`## §6 ...` → "6").
fn sections(page: &str) -> Vec<String> {
    page.lines()
        .filter_map(|l| {
            let t = l.trim_start();
            let hashes = t.chars().take_while(|&c| c == '#').count();
            if hashes == 0 || hashes > 6 {
                return None;
            }
            let rest = t[hashes..].strip_prefix(' ')?.trim_start();
            let num = rest.strip_prefix('§')?;
            let n = section_number(num);
            (!n.is_empty()).then_some(n)
        })
        .collect()
}

/// The section number at the start of `s` (`6`, `4.1`), without a trailing dot.
fn section_number(s: &str) -> String {
    let n: String = s
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == '.')
        .collect();
    n.trim_end_matches('.').to_string()
}

/// The sections cited right after byte offset `at` of `line`: `§N`, then
/// `, §M` / ` and §M` / `–§M` (a range: every number in between).
fn cited_sections(line: &str, at: usize) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = &line[at..];
    rest = rest.strip_prefix(' ').unwrap_or(rest);
    let Some(r) = rest.strip_prefix('§') else {
        return out;
    };
    rest = r.strip_prefix(' ').unwrap_or(r);
    let first = section_number(rest);
    if first.is_empty() {
        return out;
    }
    rest = &rest[first.len()..];
    out.push(first);
    loop {
        let (range, next) = if let Some(r) = rest.strip_prefix(", §") {
            (false, r)
        } else if let Some(r) = rest.strip_prefix(" and §") {
            (false, r)
        } else if let Some(r) = rest.strip_prefix("–§").or_else(|| rest.strip_prefix("-§")) {
            (true, r)
        } else {
            break;
        };
        let n = section_number(next);
        if n.is_empty() {
            break;
        }
        if range {
            let lo = out.last().and_then(|s| s.parse::<u32>().ok());
            if let (Some(lo), Ok(hi)) = (lo, n.parse::<u32>()) {
                out.extend((lo + 1..hi).map(|k| k.to_string()));
            }
        }
        rest = &next[n.len()..];
        out.push(n);
    }
    out
}

/// Every broken citation and work marker in `files` (path → text), sorted,
/// each once (a Markdown link is also a path citation).
fn problems(files: &BTreeMap<String, String>) -> Vec<Problem> {
    let mut out = Vec::new();
    for (file, text) in files {
        let is_md = file.ends_with(".md");
        for (i, line) in text.lines().enumerate() {
            let at = |what: String| format!("{file}:{}: {what}", i + 1);
            // (target path, byte offset after the citation)
            let mut cites: Vec<(Option<String>, String, usize)> = Vec::new();
            let chars: Vec<(usize, char)> = line.char_indices().collect();
            for (k, &(b, c)) in chars.iter().enumerate() {
                let prev = k.checked_sub(1).map(|j| chars[j].1);
                if prev.is_some_and(is_path_char) {
                    continue;
                }
                // A maximal run of path characters starting here.
                let end = chars[k..]
                    .iter()
                    .find(|&&(_, ch)| !is_path_char(ch))
                    .map_or(line.len(), |&(e, _)| e);
                let token = line[b..end].trim_end_matches('.');
                if !token.ends_with(".md") || token.len() <= 3 {
                    continue;
                }
                let after = b + token.len();
                if c == '/' {
                    if token[1..].starts_with(|ch: char| ch.is_ascii_alphabetic()) {
                        out.push(at(format!(
                            "`{token}` is outside the repository; cite a page under docs/"
                        )));
                    }
                } else if ["docs/", "proofs/", "reports/"]
                    .iter()
                    .any(|p| token.starts_with(p))
                {
                    cites.push((normalise(token), token.to_string(), after));
                } else if !token.contains('/')
                    && token.starts_with(|ch: char| ch.is_ascii_uppercase())
                    && token[..token.len() - 3].chars().all(|ch| {
                        ch.is_ascii_uppercase() || ch.is_ascii_digit() || ch == '_' || ch == '-'
                    })
                {
                    let local = join(dir_of(file), token);
                    let target = match local {
                        Some(l) if files.contains_key(&l) => Some(l),
                        _ => Some(token.to_string()),
                    };
                    cites.push((target, token.to_string(), after));
                }
            }
            if is_md {
                let mut from = 0;
                while let Some(p) = line[from..].find("](") {
                    let start = from + p + 2;
                    let Some(len) = line[start..].find(')') else {
                        break;
                    };
                    let raw = &line[start..start + len];
                    let target = raw.split('#').next().unwrap_or("");
                    if target.ends_with(".md") && !target.contains("://") {
                        cites.push((join(dir_of(file), target), raw.to_string(), start + len + 1));
                    }
                    from = start + len;
                }
            }
            for (target, shown, after) in cites {
                let Some(page) = target.as_ref().and_then(|t| files.get(t)) else {
                    out.push(at(format!("cites `{shown}`, which does not exist")));
                    continue;
                };
                let declared = sections(page);
                for s in cited_sections(line, after) {
                    if !declared.contains(&s) {
                        out.push(at(format!(
                            "cites `{shown} §{s}`, but {} has no heading `§{s}`",
                            target.as_deref().unwrap_or("")
                        )));
                    }
                }
            }
            if file.ends_with(".rs") && line.trim_start().starts_with("//") {
                if let Some(m) = work_marker(line) {
                    out.push(at(format!("work marker `{m}` in a comment")));
                }
            }
        }
    }
    out.sort();
    out.dedup();
    out
}

/// `HELPER-OWNED`, or an issue tag `[ABC]` / `[ABC-2]`, in `line`.
fn work_marker(line: &str) -> Option<String> {
    if line.contains("HELPER-OWNED") {
        return Some("HELPER-OWNED".into());
    }
    let mut from = 0;
    while let Some(p) = line[from..].find('[') {
        let start = from + p + 1;
        let body: String = line[start..]
            .chars()
            .take_while(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || *c == '-')
            .collect();
        let closed = line[start + body.len()..].starts_with(']');
        let (caps, num) = body.split_once('-').unwrap_or((&body, ""));
        let tag = caps.len() >= 3
            && caps.chars().all(|c| c.is_ascii_uppercase())
            && num.chars().all(|c| c.is_ascii_digit());
        if closed && tag {
            return Some(format!("[{body}]"));
        }
        from = start;
    }
    None
}

#[test]
fn every_cited_document_and_section_exists() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = tree(root);
    assert!(
        files.contains_key("README.md") && files.contains_key("docs/mathematics.md"),
        "the scan did not find the repository's pages ({} files)",
        files.len()
    );
    let this = files.remove("tests/docs.rs");
    let found = problems(&files);
    if let Some(t) = this {
        files.insert("tests/docs.rs".into(), t);
    }
    assert!(
        found.is_empty(),
        "{} broken citation(s) or work marker(s):\n{}",
        found.len(),
        found.join("\n")
    );
}

/// The checker itself, on a small tree with one of each mistake.
#[test]
fn the_checker_reports_each_kind_of_mistake() {
    let files: BTreeMap<String, String> = [
        (
            "docs/a.md",
            "# A\n\n## §1 One\n\n### §2 Two\n\n#### §2.1 Two-one\n\nSee [b](b.md) §1.\n",
        ),
        ("docs/b.md", "# B\n\n## §1 Only\n"),
        (
            "src/x.rs",
            "//! ok: docs/a.md §1, §2.1; docs/a.md §1 and §2.1\n\
             //! bad section: docs/a.md §3\n\
             //! bad range: docs/a.md §1–§3\n\
             //! missing: docs/nope.md\n\
             //! missing bare: NOTES.md; fine: README.md\n\
             //! outside: /work/shared/MATH.md\n\
             //! marker: [SIM] item 2\n\
             //! not citations: DIR/reports/x.md, proofs/<id>.md, report.md, [`Foo`], [K]\n\
             let s = \"[LLM-2]\"; // a string is not a comment\n",
        ),
        (
            "README.md",
            "Read [the maths](docs/a.md#one) and [gone](docs/gone.md).\n",
        ),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let found = problems(&files);
    let expect = [
        "src/x.rs:2: cites `docs/a.md §3`",
        "src/x.rs:3: cites `docs/a.md §3`",
        "src/x.rs:4: cites `docs/nope.md`",
        "src/x.rs:5: cites `NOTES.md`",
        "src/x.rs:6: `/work/shared/MATH.md` is outside",
        "src/x.rs:7: work marker `[SIM]`",
        "README.md:1: cites `docs/gone.md`",
    ];
    for e in expect {
        assert!(
            found.iter().any(|f| f.starts_with(e)),
            "expected a problem starting with {e:?}; found:\n{}",
            found.join("\n")
        );
    }
    assert_eq!(
        found.len(),
        expect.len(),
        "unexpected problems:\n{}",
        found.join("\n")
    );
}
