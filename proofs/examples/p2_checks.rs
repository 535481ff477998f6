//! Times the closed-loop claim checks and prints their verdicts:
//! `cargo run --release -p entropic-proofs --example p2_checks -- quick|full [claim...]`.
//! Expected: one line per verdict (claim, variant, verdict, k/n) and the
//! seconds each check took.
use entropic_proofs::verdict::{Ctx, Mode};
use std::time::Instant;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mode = if args.first().map(String::as_str) == Some("full") {
        Mode::Full
    } else {
        Mode::Quick
    };
    let out =
        std::path::PathBuf::from(std::env::var("P2_OUT").unwrap_or_else(|_| "/tmp/p2out".into()));
    std::fs::create_dir_all(&out)?;
    let ctx = Ctx {
        mode,
        out_dir: out.clone(),
    };
    for (id, f) in entropic_proofs::verify::checks() {
        if args.len() > 1 && !args[1..].iter().any(|a| a == id) {
            continue;
        }
        let t0 = Instant::now();
        let s = f(&ctx)?;
        let secs = t0.elapsed().as_secs_f64();
        for v in &s.verdicts {
            println!(
                "{} {} {:?} rate {:.3} [{:.3}, {:.3}] n {} | {}",
                v.claim, v.variant, v.verdict, v.rate, v.ci[0], v.ci[1], v.n, v.condition
            );
            if let Some(c) = &v.counterexample {
                println!("   cx seed {}: {}", c.seed, c.observed);
            }
        }
        println!("{id}: {secs:.1} s");
        std::fs::write(out.join(format!("{id}.md")), &s.markdown)?;
        std::fs::write(
            out.join(format!("{id}.json")),
            serde_json::to_string_pretty(&s.verdicts)?,
        )?;
    }
    Ok(())
}
