//! Where a result came from: the program version, the command line, the
//! source revision when the build knew it, and the UTC time. Written into
//! `summary.json` and into a `*.stamp.json` beside each report, never into
//! the Markdown (so reports and their snapshots stay byte-stable).
use serde::{Deserialize, Serialize};

/// Provenance of one output.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Provenance {
    /// Name and version of the program (`entropic 0.1.0`).
    pub program: String,
    /// The command line, arguments separated by spaces (an argument with a
    /// space or quote in it is written in single quotes).
    pub command: String,
    /// The git revision the binary was built from (`git describe --always
    /// --dirty`), `null` when the build did not know it (no git, a source
    /// archive).
    pub git_revision: Option<String>,
    /// UTC time the output was written, RFC 3339 to the second.
    pub time_utc: String,
}

impl Provenance {
    /// Provenance of an output written now by `program` (built from
    /// `git_revision`), for this process's command line.
    pub fn now(program: &str, git_revision: Option<&str>) -> Self {
        let args: Vec<String> = std::env::args().collect();
        Provenance {
            program: program.to_string(),
            command: command_line(&args),
            git_revision: git_revision.filter(|r| !r.is_empty()).map(str::to_string),
            time_utc: utc_rfc3339(std::time::SystemTime::now()),
        }
    }
}

/// `args` as one line: `entropic` (whatever the binary's file is called),
/// then each argument, quoted when it holds whitespace or quotes.
pub fn command_line(args: &[String]) -> String {
    args.iter()
        .enumerate()
        .map(|(i, a)| {
            let a = if i == 0 {
                "entropic".to_string()
            } else {
                a.clone()
            };
            if a.is_empty()
                || a.chars()
                    .any(|c| c.is_whitespace() || "'\"\\$`".contains(c))
            {
                format!("'{}'", a.replace('\'', "'\\''"))
            } else {
                a
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// `t` as `YYYY-MM-DDThh:mm:ssZ` (UTC; times before 1970 print as 1970).
pub fn utc_rfc3339(t: std::time::SystemTime) -> String {
    let secs = t
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let (days, rem) = (secs / 86_400, secs % 86_400);
    // days since 1970-01-01 to a civil date (H. Hinnant's algorithm)
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, UNIX_EPOCH};

    #[test]
    fn utc_dates() {
        assert_eq!(utc_rfc3339(UNIX_EPOCH), "1970-01-01T00:00:00Z");
        // 2000-02-29 12:34:56 UTC = 951827696 (a leap day)
        let t = UNIX_EPOCH + Duration::from_secs(951_827_696);
        assert_eq!(utc_rfc3339(t), "2000-02-29T12:34:56Z");
        // 2026-11-29 00:00:00 UTC = 1795910400
        let t = UNIX_EPOCH + Duration::from_secs(1_795_910_400);
        assert_eq!(utc_rfc3339(t), "2026-11-29T00:00:00Z");
    }

    #[test]
    fn command_lines_quote_what_a_shell_would_split() {
        let args: Vec<String> = [
            "/x/target/release/entropic",
            "run",
            "a b.toml",
            "--seeds",
            "2",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        assert_eq!(command_line(&args), "entropic run 'a b.toml' --seeds 2");
    }
}
