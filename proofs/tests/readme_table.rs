//! The README's verdict table is the table [`verify::readme_table`] renders
//! from the committed `reports/verification.json` (regenerate the README
//! table from it after a full `entropic verify`).
use entropic_proofs::verdict::ClaimVerdict;
use entropic_proofs::verify;
use std::path::PathBuf;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

#[test]
fn readme_table_is_the_committed_report() {
    let json = std::fs::read_to_string(root().join("reports/verification.json")).unwrap();
    let verdicts: Vec<ClaimVerdict> = serde_json::from_str(&json).unwrap();
    let want = verify::readme_table(&verdicts);
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let header = want.lines().next().unwrap();
    let start = readme
        .find(header)
        .expect("README has no verdict table (header `| claim | variant | verdict | ...`)");
    let table: String = readme[start..]
        .lines()
        .take_while(|l| l.starts_with('|'))
        .map(|l| format!("{l}\n"))
        .collect();
    assert_eq!(
        table, want,
        "README's verdict table differs from reports/verification.json; replace it with \
         verify::readme_table of that file"
    );
}

/// The table lists the claims in registry order.
#[test]
fn readme_table_follows_the_registry() {
    let json = std::fs::read_to_string(root().join("reports/verification.json")).unwrap();
    let verdicts: Vec<ClaimVerdict> = serde_json::from_str(&json).unwrap();
    let mut ids: Vec<&str> = verdicts.iter().map(|v| v.claim.as_str()).collect();
    ids.dedup();
    let registry: Vec<&str> = verify::CLAIMS.iter().map(|c| c.id).collect();
    assert_eq!(ids, registry);
}
