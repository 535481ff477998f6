//! The binary's error types and the exit-code contract (docs/design.md §7):
//! 0 success, 2 bad input (file, key and range named), 1 any other failure
//! (and 130/143 for a run stopped by SIGINT/SIGTERM, set by `cmd_run`).
//!
//! The code is decided by type, in [`exit_code`]: the first error in the
//! `anyhow` chain (outermost first) that is one of the typed errors below
//! decides; an error of no known type is a failure (1). Errors of the
//! claims crate (`entropic_proofs`) that are the user's fault (bad
//! `stability` or `tune` parameters) are wrapped in [`InputError`] where
//! they are raised.
use entropic_llm::LlmError;
use entropic_proofs::ProofsError;
use entropic_sim::SimError;
use std::error::Error;

/// A bad-input error raised by the binary itself (exit code 2): a flag or a
/// file the user gave is wrong. The message names it.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct InputError(pub String);

/// Exit code of one typed error, or `None` for an error of no known type.
fn code_of(e: &(dyn Error + 'static)) -> Option<u8> {
    let input = |yes: bool| Some(if yes { 2 } else { 1 });
    if e.is::<InputError>() {
        return Some(2);
    }
    if let Some(s) = e.downcast_ref::<SimError>() {
        return input(s.is_input());
    }
    if let Some(l) = e.downcast_ref::<LlmError>() {
        return input(l.is_input());
    }
    if let Some(p) = e.downcast_ref::<ProofsError>() {
        return match p {
            ProofsError::Sim(s) => input(s.is_input()),
            _ => Some(1),
        };
    }
    None
}

/// The process exit code of an error that reached `main` (2 bad input, 1
/// failure), by type: see the module doc.
pub fn exit_code(e: &anyhow::Error) -> u8 {
    e.chain().find_map(code_of).unwrap_or(1)
}

/// The message of `e` and its causes on one line, as `{e:#}` writes it but
/// without repeating a cause its wrapper's message already contains
/// (`p: Permission denied (os error 13): Permission denied (os error 13)`
/// when a typed error both prints and chains its source), and with any
/// line breaks of a cause joined.
pub fn one_line(e: &anyhow::Error) -> String {
    let mut out = String::new();
    for cause in e.chain() {
        let s = cause.to_string();
        let s = s
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect::<Vec<_>>()
            .join(" ");
        if s.is_empty() || out.contains(&s) {
            continue;
        }
        if !out.is_empty() {
            out.push_str(": ");
        }
        out.push_str(&s);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cause_already_printed_is_not_repeated() {
        let io = std::io::Error::from(std::io::ErrorKind::PermissionDenied);
        let shown = io.to_string();
        let e: anyhow::Error = SimError::Io {
            path: "p".into(),
            source: io,
        }
        .into();
        assert_eq!(one_line(&e), format!("p: {shown}"));
        let e = anyhow::anyhow!("inner").context("outer");
        assert_eq!(one_line(&e), "outer: inner");
    }

    #[test]
    fn codes_by_type() {
        assert_eq!(exit_code(&InputError("x".into()).into()), 2);
        assert_eq!(exit_code(&SimError::input("f", "k", "m").into()), 2);
        assert_eq!(exit_code(&SimError::Other("m".into()).into()), 1);
        assert_eq!(exit_code(&LlmError::input("f", "m").into()), 2);
        assert_eq!(
            exit_code(&anyhow::Error::new(LlmError::input("f", "m")).context("while x")),
            2
        );
        assert_eq!(exit_code(&anyhow::anyhow!("plain")), 1);
        // a simulator error inside a claim check keeps its type
        let bad = ProofsError::Sim(SimError::input("f", "k", "m"));
        assert_eq!(exit_code(&bad.into()), 2);
        assert_eq!(exit_code(&ProofsError::Other("m".into()).into()), 1);
        let nonfinite = || SimError::NonFinite {
            quantity: "loss".into(),
            step: 3,
            seed: 0,
            arm: "pi".into(),
        };
        assert_eq!(exit_code(&nonfinite().into()), 1);
        let io = || std::io::Error::other("disk full");
        let sim_io = SimError::Io {
            path: "p".into(),
            source: io(),
        };
        assert_eq!(exit_code(&sim_io.into()), 1);
        // The LLM crate's wrapping of the simulator's errors keeps their class.
        assert_eq!(
            exit_code(&LlmError::from(SimError::input("f", "control.kp", "m")).into()),
            2
        );
        assert_eq!(exit_code(&LlmError::from(nonfinite()).into()), 1);
        let llm_io = LlmError::Io {
            path: "p".into(),
            source: io(),
        };
        assert_eq!(exit_code(&llm_io.into()), 1);
        assert_eq!(exit_code(&LlmError::Other("no GPU".into()).into()), 1);
    }
}
