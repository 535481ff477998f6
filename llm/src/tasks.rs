//! Tasks with verifiable binary rewards: synthetic arithmetic with worked
//! answers, a deterministic train/validation split, answer extraction and
//! a JSONL loader for users' own problems.
//!
//! Format: the prompt is the expression and `=` (`123+456=`); a worked
//! answer writes the result's digits least-significant first (for `+`/`−`,
//! fixed width, with the sign first), or the intermediate steps (`*`,
//! mixed), then `>` and the result: `123+456=` → `9750>579`. With
//! `add_steps`, addition instead shows one fixed-width step per digit,
//! least significant first, with the carry in and the two-digit sum:
//! `933+487=` → `3+7+0=10,3+8+1=12,9+4+1=14>1420`. The checker reads the
//! last integer of the completion.
use crate::error::{LlmError, Result};
use rand::Rng;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// One problem: what the model sees and the reference answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Problem {
    pub prompt: String,
    pub answer: String,
}

/// Kinds of synthetic problems.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// `a+b`, both with `digits` digits.
    Add,
    /// `a-b`, both with `digits` digits (negative results occur).
    Sub,
    /// `a*b`, both with `mul_digits` digits.
    Mul,
    /// Three operands of `mixed_digits` digits, two of `+ - *`, optional
    /// parentheses around the first pair.
    Mixed,
}

/// How worked answers are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Style {
    /// Symbols (`9750>579`, or `add_steps`' per-digit steps): the style of
    /// the character-level bases.
    #[default]
    Symbols,
    /// Addition worked out in English sentences with Zipf-drawn phrasings
    /// and word substitutions ([`crate::words`]); `kinds` must be `["add"]`.
    Words,
}

/// Difficulty knobs and the split of the arithmetic generator.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ArithConfig {
    /// Problem kinds, drawn uniformly.
    pub kinds: Vec<Kind>,
    /// Digits of `+`/`−` operands (1..=9).
    pub digits: u32,
    /// Digits of `*` operands (1..=4).
    pub mul_digits: u32,
    /// Digits of mixed-expression operands (1..=3).
    pub mixed_digits: u32,
    /// Share of problems (by hash of the prompt) in the validation split.
    pub val_share: f64,
    /// Seed of the split hash: the same seed gives the same split.
    pub split_seed: u64,
    /// Addition's worked answer as per-digit steps with carries (see the
    /// module doc) instead of reversed digits: longer, but each step is a
    /// local lookup, which a tiny model learns in far fewer steps.
    pub add_steps: bool,
    /// How answers are written (`symbols`, the default, or `words`).
    pub style: Style,
    /// `words` style: Zipf exponent of the phrasing pools (0 = uniform;
    /// larger = the head phrasing dominates more).
    pub zipf: f64,
    /// `words` style: per-word probability of a substitution by a common
    /// word ([`crate::words::SUBSTITUTES`]).
    pub subst_rate: f64,
}

impl Default for ArithConfig {
    fn default() -> Self {
        ArithConfig {
            kinds: vec![Kind::Add, Kind::Sub],
            digits: 3,
            mul_digits: 2,
            mixed_digits: 1,
            val_share: 0.1,
            split_seed: 0,
            add_steps: false,
            style: Style::Symbols,
            zipf: 1.5,
            subst_rate: 0.0,
        }
    }
}

impl ArithConfig {
    /// Range checks; `file` is named in the error.
    pub fn validate(&self, file: &str) -> Result<()> {
        let bad = |k: &str, m: &str| Err(LlmError::input(file, format!("key `task.{k}`: {m}")));
        if self.kinds.is_empty() {
            return bad("kinds", "at least one kind (add, sub, mul, mixed)");
        }
        if !(1..=9).contains(&self.digits) {
            return bad("digits", "must be in 1..=9");
        }
        if !(1..=4).contains(&self.mul_digits) {
            return bad("mul_digits", "must be in 1..=4");
        }
        if !(1..=3).contains(&self.mixed_digits) {
            return bad("mixed_digits", "must be in 1..=3");
        }
        if !(self.val_share > 0.0 && self.val_share < 1.0) {
            return bad("val_share", "must be in (0, 1)");
        }
        if !(self.zipf >= 0.0 && self.zipf <= 10.0) {
            return bad("zipf", "must be in [0, 10]");
        }
        if !(0.0..=0.5).contains(&self.subst_rate) {
            return bad("subst_rate", "must be in [0, 0.5]");
        }
        if self.style == Style::Words {
            if self.kinds != [Kind::Add] {
                return bad("kinds", "style `words` supports only [\"add\"]");
            }
            if self.digits > 6 {
                return bad("digits", "must be in 1..=6 with style `words`");
            }
        }
        Ok(())
    }

    /// Whether `prompt` belongs to the validation split (FNV-1a hash of the
    /// prompt and `split_seed`, compared with `val_share`).
    /// With style `words`, the prompt's integers are hashed instead
    /// ([`crate::words::split_key`]): every phrasing of a problem is on the
    /// same side, the side the symbol style puts it.
    pub fn is_validation(&self, prompt: &str) -> bool {
        if self.style == Style::Words {
            return self.hash_split(&crate::words::split_key(prompt));
        }
        self.hash_split(prompt)
    }

    fn hash_split(&self, prompt: &str) -> bool {
        let mut h: u64 = 0xcbf29ce484222325 ^ self.split_seed.wrapping_mul(0x9e3779b97f4a7c15);
        for b in prompt.bytes() {
            h ^= b as u64;
            h = h.wrapping_mul(0x100000001b3);
        }
        (h >> 11) as f64 / (1u64 << 53) as f64 <= self.val_share
    }

    /// A problem from the training split with its worked answer; with
    /// probability `wrong_frac` the worked answer is that of a wrong result
    /// (the correct one ± 1, 10 or 100), so a model trained on them is imperfect.
    pub fn train_example<R: Rng>(&self, wrong_frac: f64, rng: &mut R) -> (Problem, String) {
        loop {
            let (p, work) = self.generate(wrong_frac, rng);
            if !self.is_validation(&p.prompt) {
                return (p, work);
            }
        }
    }

    /// `n` validation problems drawn with `rng` (duplicates possible for
    /// small digit counts).
    pub fn validation_set<R: Rng>(&self, n: usize, rng: &mut R) -> Vec<Problem> {
        let mut out = Vec::with_capacity(n);
        while out.len() < n {
            let (p, _) = self.generate(0.0, rng);
            if self.is_validation(&p.prompt) {
                out.push(p);
            }
        }
        out
    }

    /// The standard validation set of `n` problems (drawn with a generator
    /// seeded from `split_seed`, so eval after pretrain sees the same set).
    pub fn validation_problems(&self, n: usize) -> Vec<Problem> {
        use rand::SeedableRng;
        self.validation_set(
            n,
            &mut rand_chacha::ChaCha8Rng::seed_from_u64(self.split_seed ^ 0x5eed),
        )
    }

    fn operand<R: Rng>(d: u32, rng: &mut R) -> i64 {
        let lo = if d == 1 { 0 } else { 10i64.pow(d - 1) };
        rng.random_range(lo..10i64.pow(d))
    }

    fn generate<R: Rng>(&self, wrong_frac: f64, rng: &mut R) -> (Problem, String) {
        let kind = self.kinds[rng.random_range(0..self.kinds.len())];
        let wrong = rng.random::<f64>() < wrong_frac;
        let delta = if wrong {
            [1i64, 10, 100][rng.random_range(0..3)] * if rng.random::<bool>() { 1 } else { -1 }
        } else {
            0
        };
        let (prompt, value, steps) = match kind {
            Kind::Add if self.style == Style::Words => {
                let (a, b) = (
                    Self::operand(self.digits, rng),
                    Self::operand(self.digits, rng),
                );
                let (work, _) =
                    crate::words::worked(a, b, self.digits, wrong, self.zipf, self.subst_rate, rng);
                return (
                    Problem {
                        prompt: crate::words::prompt(a, b, self.zipf, rng),
                        answer: (a + b).to_string(),
                    },
                    work,
                );
            }
            Kind::Add if self.add_steps => {
                let (a, b) = (
                    Self::operand(self.digits, rng),
                    Self::operand(self.digits, rng),
                );
                // A wrong answer is a slip of ±1 in one step's sum, carried on.
                let slip_at = rng.random_range(0..self.digits);
                let (mut steps, mut carry, mut value, mut scale) = (Vec::new(), 0, 0i64, 1i64);
                let (mut x, mut y) = (a, b);
                for k in 0..self.digits {
                    let (dx, dy) = (x % 10, y % 10);
                    let mut sum = dx + dy + carry;
                    if wrong && k == slip_at {
                        sum = crate::words::slip(sum, rng);
                    }
                    steps.push(format!("{dx}+{dy}+{carry}={sum:02}"));
                    value += (sum % 10) * scale;
                    carry = sum / 10;
                    scale *= 10;
                    x /= 10;
                    y /= 10;
                }
                value += carry * scale;
                let work = format!("{}>{value}", steps.join(","));
                return (
                    Problem {
                        prompt: format!("{a}+{b}="),
                        answer: (a + b).to_string(),
                    },
                    work,
                );
            }
            Kind::Add | Kind::Sub => {
                let (a, b) = (
                    Self::operand(self.digits, rng),
                    Self::operand(self.digits, rng),
                );
                let (op, v, width) = if kind == Kind::Add {
                    ('+', a + b, self.digits + 1)
                } else {
                    ('-', a - b, self.digits)
                };
                let shown = v + delta;
                let digits: String = format!("{:0w$}", shown.abs(), w = width as usize)
                    .chars()
                    .rev()
                    .collect();
                let sign = if shown < 0 { "-" } else { "" };
                (format!("{a}{op}{b}="), v, format!("{sign}{digits}"))
            }
            Kind::Mul => {
                let (a, b) = (
                    Self::operand(self.mul_digits, rng),
                    Self::operand(self.mul_digits, rng),
                );
                let (tens, units) = (b / 10 * 10, b % 10);
                let steps = format!("{a}*{units}={},{a}*{tens}={}", a * units, a * tens);
                (format!("{a}*{b}="), a * b, steps)
            }
            Kind::Mixed => {
                let d = self.mixed_digits;
                let (x, y, z) = (
                    Self::operand(d, rng),
                    Self::operand(d, rng),
                    Self::operand(d, rng),
                );
                let ops = ['+', '-', '*'];
                let (o1, o2) = (ops[rng.random_range(0..3)], ops[rng.random_range(0..3)]);
                let ap = |a: i64, o: char, b: i64| match o {
                    '+' => a + b,
                    '-' => a - b,
                    _ => a * b,
                };
                let paren = rng.random::<bool>();
                if paren || o2 != '*' || o1 == '*' {
                    // left to right: (x o1 y) o2 z
                    let r1 = ap(x, o1, y);
                    let p = if paren {
                        format!("({x}{o1}{y}){o2}{z}=")
                    } else {
                        format!("{x}{o1}{y}{o2}{z}=")
                    };
                    (
                        p,
                        ap(r1, o2, z),
                        format!("{x}{o1}{y}={r1},{r1}{o2}{z}={}", ap(r1, o2, z) + delta),
                    )
                } else {
                    // x o1 (y * z) by precedence
                    let r1 = y * z;
                    (
                        format!("{x}{o1}{y}*{z}="),
                        ap(x, o1, r1),
                        format!("{y}*{z}={r1},{x}{o1}{r1}={}", ap(x, o1, r1) + delta),
                    )
                }
            }
        };
        let work = format!("{steps}>{}", value + delta);
        (
            Problem {
                prompt,
                answer: value.to_string(),
            },
            work,
        )
    }
}

/// The answer a completion gives: the last integer in it (an optional `-`
/// right before the digits), leading zeros dropped, `-0` read as `0`.
/// Spaces between digits end a number. `None` when there is no digit.
pub fn extract_answer(completion: &str) -> Option<String> {
    let c: Vec<char> = completion.chars().collect();
    let end = c.iter().rposition(|ch| ch.is_ascii_digit())? + 1;
    let mut start = end;
    while start > 0 && c[start - 1].is_ascii_digit() {
        start -= 1;
    }
    let neg = start > 0 && c[start - 1] == '-';
    Some(normalize_int(
        neg,
        &c[start..end].iter().collect::<String>(),
    ))
}

fn normalize_int(neg: bool, digits: &str) -> String {
    let d = digits.trim_start_matches('0');
    match (d.is_empty(), neg) {
        (true, _) => "0".into(),
        (false, true) => format!("-{d}"),
        (false, false) => d.into(),
    }
}

/// Reward 1 if the completion's answer equals the reference, else 0. An
/// integer reference is compared as an integer (`007` = `7`); any other
/// reference is compared with the completion's text after its last `>`
/// (or the whole completion), both trimmed.
pub fn reward(completion: &str, answer: &str) -> f64 {
    let a = answer.trim();
    let (neg, digits) = match a.strip_prefix('-') {
        Some(d) => (true, d),
        None => (false, a),
    };
    let is_int = !digits.is_empty() && digits.chars().all(|c| c.is_ascii_digit());
    let ok = if is_int {
        extract_answer(completion) == Some(normalize_int(neg, digits))
    } else {
        completion.rsplit('>').next().unwrap_or("").trim() == a
    };
    ok as u8 as f64
}

/// Reads problems from JSONL, one `{"prompt": ..., "answer": ...}` per
/// line (blank lines skipped). A malformed line is an input error naming
/// its line number; a file without problems is an input error too.
pub fn load_jsonl(path: &Path) -> Result<Vec<Problem>> {
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path)
        .map_err(|e| LlmError::input(&file, format!("cannot read: {e}")))?;
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let p: Problem = serde_json::from_str(line).map_err(|e| {
            LlmError::input(
                &file,
                format!(
                    "line {}: expected {{\"prompt\": ..., \"answer\": ...}}: {e}",
                    i + 1
                ),
            )
        })?;
        out.push(p);
    }
    if out.is_empty() {
        return Err(LlmError::input(&file, "empty dataset: no problems"));
    }
    Ok(out)
}
