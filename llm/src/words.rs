//! Addition worked out in words, the task style of a base whose entropy
//! looks like an LLM's (`task.style = "words"`, docs/mathematics.md §8 for
//! the composition it aims at).
//!
//! The prompt is `What is 482 plus 357?` (or one of [`PROMPTS`]'s other
//! phrasings); the response walks the columns
//! from the ones up, each step in one of several phrasings, and ends with a
//! sentence whose last integer is the result:
//!
//! ` Let's add column by column, starting from the right. In the ones
//! column, 2 plus 7 is 9, so we write 9. In the tens column, 8 plus 5 is
//! 13, so we write 3 and carry 1. ... So the answer is 839.`
//!
//! Where a real corpus varies, so does this one (chosen where the issue is
//! silent, so that the near-deterministic tokens keep a tail):
//! - every sentence slot (opener, column intro, sum, carry phrase, write
//!   phrase, closer) draws its phrasing from a pool by a Zipf law
//!   (`P(rank r) ∝ r^-s`, `task.zipf`): the head phrasing dominates, the
//!   rest are the real forks of a response. The column slots are drawn once
//!   per response (one writer keeps one wording) and repeated for every
//!   column: a first base that drew them afresh per column had a fork every
//!   few tokens (26 % of tokens below τ = 0.95, where the issue asks at most
//!   20 %);
//! - each word (letters only, never a digit) is, with probability
//!   `task.subst_rate`, replaced by a word drawn uniformly from
//!   [`SUBSTITUTES`]: the small, spread-out tail a pretrained model keeps
//!   at tokens it otherwise predicts almost surely.
//!
//! The digits are the work: a wrong worked answer (share `wrong_frac` of
//! training answers) slips by ±1 in one column's sum and carries the slip
//! on, so its result is wrong but self-consistent, as in the symbol style.
use rand::Rng;

/// Column names, least significant first (`task.digits` ≤ 6 in this style).
pub const COLUMNS: [&str; 7] = [
    "ones",
    "tens",
    "hundreds",
    "thousands",
    "ten thousands",
    "hundred thousands",
    "millions",
];

/// Openers (a response's first sentence; starts with a space, as the
/// response follows the prompt's `?`).
const OPENERS: &[&str] = &[
    " Let's add column by column, starting from the right.",
    " We add the digits from right to left.",
    " Line up the numbers and add each column, beginning with the ones.",
    " To find the sum, work through the columns from the right.",
    " Start with the rightmost digits and carry when a column reaches ten.",
    " We will add one place value at a time.",
    " Let us work it out step by step.",
    " Adding the two numbers column by column:",
    " Here is the addition, one digit at a time.",
    " First write one number above the other, then add each column.",
    " I will add the columns in order, from the smallest place value up.",
    " Solve this with the usual written method for addition.",
];

/// Column intros; `{c}` is the column's name.
const INTROS: &[&str] = &[
    " In the {c} column,",
    " For the {c} place,",
    " Next, the {c}:",
    " Now the {c} digits:",
    " Looking at the {c},",
    " Moving to the {c} column,",
    " Then in the {c} place,",
    " At the {c} position,",
    " Consider the {c} column:",
    " Turning to the {c},",
];

/// Sums; `{x}` `{y}` are the column's digits, `{k}` the carry phrase (empty
/// without a carry in), `{s}` the column's sum.
const SUMS: &[&str] = &[
    " {x} plus {y}{k} is {s}",
    " {x} plus {y}{k} makes {s}",
    " adding {x} and {y}{k} gives {s}",
    " {x} and {y}{k} give {s}",
    " the sum of {x} and {y}{k} is {s}",
    " we add {x} to {y}{k} and get {s}",
    " {x} added to {y}{k} equals {s}",
    " combining {x} with {y}{k} yields {s}",
    " {x} together with {y}{k} comes to {s}",
    " taking {x} and {y}{k} we have {s}",
];

/// Carry-in phrases, inserted after the second digit.
const CARRIES: &[&str] = &[
    " plus the carried 1",
    " plus the carry of 1",
    " and the carry 1",
    " with 1 carried over",
    " plus 1 from the previous column",
    " along with the carried one",
];

/// The digit written and a carry out; `{d}` is the digit.
const WRITE_CARRY: &[&str] = &[
    ", so we write {d} and carry 1.",
    ", so write down {d} and carry the 1.",
    "; we put {d} and carry 1 to the next column.",
    ". Write {d}, carry 1.",
    ", which means {d} with a carry of 1.",
    ", so the digit is {d} and 1 is carried.",
    ". We keep {d} and move 1 to the left.",
    ", leaving {d} here and a carry of one.",
];

/// The digit written, no carry out.
const WRITE: &[&str] = &[
    ", so we write {d}.",
    ", so write down {d}.",
    "; we put down {d} with no carry.",
    ". Write {d}.",
    ", giving the digit {d}.",
    ", so the digit is {d} and nothing is carried.",
    ". We keep {d} in this place.",
    ", which stays below ten, so we write {d}.",
];

// The write pools are read with one rank (`Style::write`).
const _: () = assert!(WRITE.len() == WRITE_CARRY.len());

/// The final carry becoming the leading digit.
const LEADING: &[&str] = &[
    " The last carry of 1 becomes the leading digit.",
    " Finally, the carried 1 goes in front.",
    " The remaining 1 is written at the far left.",
    " We bring down the final carry as the first digit.",
    " One more carry remains, so we place 1 in front.",
];

/// Closers; `{a}` `{b}` are the operands, `{v}` the result (always the
/// closer's last integer, so `reward` reads it).
const CLOSERS: &[&str] = &[
    " So the answer is {v}.",
    " Therefore the sum is {v}.",
    " The total is {v}.",
    " That gives {v}.",
    " Putting the digits together, we get {v}.",
    " So {a} plus {b} equals {v}.",
    " Hence the result is {v}.",
    " The final answer is {v}.",
    " Reading the digits from left to right, the sum is {v}.",
    " Altogether this comes to {v}.",
    " In total we have {v}.",
    " Thus the two numbers add up to {v}.",
];

/// Words a substitution draws from (uniformly): common English words, none
/// a digit, so a substitution never changes the answer.
pub const SUBSTITUTES: &[&str] = &[
    "the",
    "a",
    "an",
    "then",
    "now",
    "so",
    "and",
    "we",
    "it",
    "this",
    "that",
    "here",
    "there",
    "next",
    "first",
    "last",
    "again",
    "also",
    "just",
    "still",
    "simply",
    "only",
    "both",
    "each",
    "every",
    "one",
    "two",
    "number",
    "digit",
    "column",
    "place",
    "value",
    "sum",
    "total",
    "result",
    "answer",
    "step",
    "carry",
    "write",
    "put",
    "keep",
    "add",
    "plus",
    "gives",
    "makes",
    "is",
    "are",
    "was",
    "be",
    "get",
    "take",
    "move",
    "left",
    "right",
    "top",
    "bottom",
    "over",
    "under",
    "above",
    "below",
    "with",
    "without",
    "from",
    "to",
    "into",
    "of",
    "for",
    "by",
    "on",
    "at",
    "in",
    "out",
    "up",
    "down",
    "all",
    "some",
    "more",
    "less",
    "same",
    "other",
    "new",
    "old",
    "small",
    "large",
    "big",
    "little",
    "good",
    "careful",
    "clear",
    "easy",
    "quick",
    "slow",
    "correct",
    "exact",
    "whole",
    "part",
    "half",
    "line",
    "row",
    "note",
    "look",
    "see",
    "check",
    "find",
    "read",
    "work",
    "carefully",
    "clearly",
    "exactly",
    "quickly",
    "well",
    "yes",
    "okay",
    "indeed",
    "therefore",
    "thus",
    "hence",
    "because",
    "since",
    "while",
    "when",
    "after",
    "before",
    "until",
    "once",
    "twice",
    "always",
    "never",
    "often",
    "usually",
    "method",
    "rule",
    "way",
    "idea",
    "count",
    "order",
    "pair",
    "single",
    "double",
    "about",
    "across",
    "against",
    "along",
    "among",
    "around",
    "away",
    "back",
    "behind",
    "beside",
    "between",
    "beyond",
    "during",
    "except",
    "inside",
    "near",
    "off",
    "onto",
    "outside",
    "past",
    "through",
    "toward",
    "within",
    "able",
    "best",
    "better",
    "certain",
    "common",
    "different",
    "early",
    "final",
    "full",
    "great",
    "high",
    "important",
    "kind",
    "known",
    "late",
    "long",
    "low",
    "main",
    "many",
    "most",
    "much",
    "open",
    "own",
    "possible",
    "real",
    "recent",
    "short",
    "simple",
    "special",
    "strong",
    "sure",
    "true",
    "usual",
    "wrong",
    "already",
    "almost",
    "even",
    "ever",
    "far",
    "finally",
    "further",
    "instead",
    "later",
    "maybe",
    "nearly",
    "perhaps",
    "quite",
    "rather",
    "really",
    "soon",
    "sometimes",
    "together",
    "too",
    "very",
    "yet",
    "ask",
    "become",
    "begin",
    "bring",
    "build",
    "call",
    "change",
    "choose",
    "come",
    "consider",
    "continue",
    "create",
    "decide",
    "describe",
    "do",
    "explain",
    "fall",
    "feel",
    "follow",
    "give",
    "go",
    "grow",
    "happen",
    "have",
    "hear",
    "help",
    "hold",
    "include",
    "know",
    "lead",
    "learn",
    "leave",
    "let",
    "like",
    "live",
    "make",
    "mean",
    "meet",
    "need",
    "offer",
    "pay",
    "play",
    "present",
    "provide",
    "reach",
    "remain",
    "remember",
    "report",
    "run",
    "say",
    "seem",
    "serve",
    "set",
    "show",
    "sit",
    "speak",
    "spend",
    "stand",
    "start",
    "stay",
    "stop",
    "suggest",
    "talk",
    "tell",
    "think",
    "try",
    "turn",
    "understand",
    "use",
    "wait",
    "walk",
    "want",
    "watch",
    "win",
    "area",
    "book",
    "case",
    "child",
    "city",
    "company",
    "country",
    "day",
    "end",
    "eye",
    "fact",
    "family",
    "friend",
    "game",
    "group",
    "hand",
    "head",
    "home",
    "hour",
    "house",
    "job",
    "lot",
    "man",
    "member",
    "minute",
    "moment",
    "money",
    "month",
    "morning",
    "mother",
    "name",
    "night",
    "office",
    "paper",
    "party",
    "people",
    "person",
    "point",
    "power",
    "problem",
    "program",
    "question",
    "reason",
    "room",
    "school",
    "side",
    "story",
    "student",
    "system",
    "teacher",
    "team",
    "thing",
    "time",
    "water",
    "week",
    "woman",
    "word",
    "world",
    "year",
    "figure",
    "amount",
    "list",
    "table",
    "chart",
    "pencil",
    "board",
    "lesson",
    "class",
    "homework",
    "exercise",
    "practice",
    "test",
    "quiz",
    "page",
    "notebook",
    "however",
    "meanwhile",
    "otherwise",
    "besides",
    "likewise",
    "moreover",
    "animal",
    "apple",
    "basket",
    "bird",
    "blue",
    "bread",
    "bridge",
    "brother",
    "cake",
    "camera",
    "candle",
    "car",
    "card",
    "cat",
    "chair",
    "cloud",
    "coat",
    "coffee",
    "corner",
    "dog",
    "door",
    "dream",
    "dress",
    "earth",
    "egg",
    "engine",
    "evening",
    "field",
    "fire",
    "fish",
    "floor",
    "flower",
    "forest",
    "garden",
    "glass",
    "gold",
    "grass",
    "green",
    "hill",
    "horse",
    "island",
    "kitchen",
    "lake",
    "lamp",
    "leaf",
    "letter",
    "light",
    "market",
    "milk",
    "moon",
    "mountain",
    "music",
    "nose",
    "ocean",
    "orange",
    "picture",
    "plant",
    "pocket",
    "rain",
    "river",
    "road",
    "rock",
    "roof",
    "salt",
    "sand",
    "sea",
    "season",
    "seed",
    "shadow",
    "sheep",
    "ship",
    "shoe",
    "shop",
    "sister",
    "sky",
    "snow",
    "song",
    "spring",
    "square",
    "star",
    "stone",
    "street",
    "summer",
    "sun",
    "teeth",
    "tree",
    "train",
    "village",
    "voice",
    "wall",
    "window",
    "winter",
    "wood",
    "yellow",
    "adding",
    "counting",
    "measuring",
    "writing",
    "reading",
    "checking",
    "placing",
    "moving",
    "keeping",
    "giving",
    "taking",
    "making",
    "thinking",
    "looking",
];

/// A rank in `0..n` drawn with `P(r) ∝ (r + 1)^-s` (`s = 0`: uniform).
pub fn zipf<R: Rng>(n: usize, s: f64, rng: &mut R) -> usize {
    let w: Vec<f64> = (1..=n).map(|r| (r as f64).powf(-s)).collect();
    let total: f64 = w.iter().sum();
    let mut u = rng.random::<f64>() * total;
    for (i, x) in w.iter().enumerate() {
        if u < *x {
            return i;
        }
        u -= x;
    }
    n - 1
}

fn pick<'a, R: Rng>(pool: &[&'a str], s: f64, rng: &mut R) -> &'a str {
    pool[zipf(pool.len(), s, rng)]
}

/// Replaces each word of letters only (a maximal run of ASCII letters and
/// `'`) with a [`SUBSTITUTES`] word with probability `rate`; everything
/// else (digits, spaces, punctuation) is kept.
pub fn substitute<R: Rng>(text: &str, rate: f64, rng: &mut R) -> String {
    if rate <= 0.0 {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len());
    let mut word = String::new();
    let flush = |word: &mut String, out: &mut String, rng: &mut R| {
        if !word.is_empty() {
            if rng.random::<f64>() < rate {
                out.push_str(SUBSTITUTES[rng.random_range(0..SUBSTITUTES.len())]);
            } else {
                out.push_str(word);
            }
            word.clear();
        }
    };
    for ch in text.chars() {
        if ch.is_ascii_alphabetic() || ch == '\'' {
            word.push(ch);
        } else {
            flush(&mut word, &mut out, rng);
            out.push(ch);
        }
    }
    flush(&mut word, &mut out, rng);
    out
}

/// Prompts; `{a}` `{b}` are the operands.
const PROMPTS: &[&str] = &[
    "What is {a} plus {b}?",
    "Add {a} and {b}.",
    "Compute {a} + {b}.",
    "Find the sum of {a} and {b}.",
    "What do you get when you add {a} and {b}?",
    "Calculate {a} plus {b}.",
    "How much is {a} plus {b}?",
    "Work out {a} + {b}.",
    "Please add {a} to {b}.",
    "Determine the total of {a} and {b}.",
];

/// The phrasing ranks of a response's column slots.
struct Style {
    intro: usize,
    sum: usize,
    carry: usize,
    /// One rank for both write pools: [`WRITE_CARRY`] and [`WRITE`] have
    /// the same length and are read with this one rank (most entries are
    /// the same wording with and without the carry; a few only share the
    /// register), so a column whose carry differs from the first column's
    /// does not draw a new phrase.
    write: usize,
}

/// The prompt of `a + b`, its phrasing drawn from [`PROMPTS`] by the same
/// Zipf law as the response's.
pub fn prompt<R: Rng>(a: i64, b: i64, zipf_s: f64, rng: &mut R) -> String {
    pick(PROMPTS, zipf_s, rng)
        .replace("{a}", &a.to_string())
        .replace("{b}", &b.to_string())
}

/// The key of a prompt in the train/validation split: its integers joined
/// as the symbol style writes the problem (`Add 482 and 357.` → `482+357=`),
/// so every phrasing of one problem falls on the same side of the split.
pub fn split_key(prompt: &str) -> String {
    let nums: Vec<&str> = prompt
        .split(|c: char| !c.is_ascii_digit())
        .filter(|s| !s.is_empty())
        .collect();
    format!("{}=", nums.join("+"))
}

/// A wrong training answer's slip in one column's sum: ±1 (never below 0
/// or above 19), the sign drawn from `rng` except at the ends. The one rule
/// of both task styles (`crate::tasks` uses it too), so their wrong answers
/// look alike and draw the same numbers.
pub(crate) fn slip<R: Rng>(sum: i64, rng: &mut R) -> i64 {
    if sum == 0 || (sum < 19 && rng.random::<bool>()) {
        sum + 1
    } else {
        sum - 1
    }
}

/// The worked answer of `a + b` over `digits` columns (see the module doc):
/// with `wrong`, one column's sum slips by ±1 and the slip is carried on.
/// Returns the response and the result it states.
pub fn worked<R: Rng>(
    a: i64,
    b: i64,
    digits: u32,
    wrong: bool,
    zipf_s: f64,
    subst_rate: f64,
    rng: &mut R,
) -> (String, i64) {
    let slip_at = rng.random_range(0..digits);
    let mut text = String::from(pick(OPENERS, zipf_s, rng));
    // One writer's style per response: each column slot keeps the phrasing
    // drawn for the response, so the first column is a fork and the later
    // columns repeat it (near-deterministic, with the substitution tail).
    let style = Style {
        intro: zipf(INTROS.len(), zipf_s, rng),
        sum: zipf(SUMS.len(), zipf_s, rng),
        carry: zipf(CARRIES.len(), zipf_s, rng),
        write: zipf(WRITE.len(), zipf_s, rng),
    };
    let (mut carry, mut value, mut scale) = (0i64, 0i64, 1i64);
    let (mut x, mut y) = (a, b);
    for k in 0..digits {
        let (dx, dy) = (x % 10, y % 10);
        let mut sum = dx + dy + carry;
        if wrong && k == slip_at {
            sum = slip(sum, rng);
        }
        let col = COLUMNS[k as usize];
        text.push_str(&INTROS[style.intro].replace("{c}", col));
        let carry_phrase = if carry > 0 { CARRIES[style.carry] } else { "" };
        text.push_str(
            &SUMS[style.sum]
                .replace("{x}", &dx.to_string())
                .replace("{y}", &dy.to_string())
                .replace("{k}", carry_phrase)
                .replace("{s}", &sum.to_string()),
        );
        let (d, out) = (sum % 10, sum / 10);
        let w = if out > 0 {
            WRITE_CARRY[style.write]
        } else {
            WRITE[style.write]
        };
        text.push_str(&w.replace("{d}", &d.to_string()));
        value += d * scale;
        carry = out;
        scale *= 10;
        x /= 10;
        y /= 10;
    }
    if carry > 0 {
        text.push_str(pick(LEADING, zipf_s, rng));
        value += carry * scale;
    }
    let text = substitute(&text, subst_rate, rng);
    let closer = pick(CLOSERS, zipf_s, rng)
        .replace("{a}", &a.to_string())
        .replace("{b}", &b.to_string())
        .replace("{v}", &value.to_string());
    // The closer's words may be substituted too; its numbers never are.
    let closer = substitute(&closer, subst_rate, rng);
    (text + &closer, value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    #[test]
    fn zipf_head_dominates_and_uniform_at_zero() {
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let mut c = [0usize; 4];
        for _ in 0..20_000 {
            c[zipf(4, 1.0, &mut rng)] += 1;
        }
        // P(0) = 1 / (1 + 1/2 + 1/3 + 1/4) = 0.48.
        assert!((c[0] as f64 / 20_000.0 - 0.48).abs() < 0.02, "{c:?}");
        assert!(c[0] > c[1] && c[1] > c[2] && c[2] > c[3], "{c:?}");
        let mut u = [0usize; 4];
        for _ in 0..20_000 {
            u[zipf(4, 0.0, &mut rng)] += 1;
        }
        assert!(
            u.iter().all(|&n| (n as f64 / 20_000.0 - 0.25).abs() < 0.02),
            "{u:?}"
        );
    }

    #[test]
    fn substitution_keeps_digits_and_punctuation() {
        let mut rng = ChaCha8Rng::seed_from_u64(2);
        let t = " In the ones column, 7 plus 5 is 12, so we write 2 and carry 1.";
        let s = substitute(t, 1.0, &mut rng);
        let digits = |x: &str| {
            x.chars()
                .filter(|c| !c.is_ascii_alphabetic())
                .collect::<String>()
        };
        // Every word replaced, nothing else changed.
        assert_eq!(digits(&s), digits(t));
        assert_ne!(s, t);
        assert_eq!(substitute(t, 0.0, &mut rng), t);
    }

    /// One wording per response: every column uses the intro drawn for the
    /// first (substitutions off, so the templates can be matched).
    #[test]
    fn columns_keep_the_response_wording() {
        let mut rng = ChaCha8Rng::seed_from_u64(4);
        let mut firsts = std::collections::BTreeSet::new();
        for _ in 0..300 {
            let (t, _) = worked(123, 456, 3, false, 1.0, 0.0, &mut rng);
            let used: Vec<usize> = (0..3)
                .map(|k| {
                    (0..INTROS.len())
                        .filter(|&i| t.contains(&INTROS[i].replace("{c}", COLUMNS[k])))
                        .collect::<Vec<_>>()
                })
                .map(|v| {
                    assert_eq!(v.len(), 1, "{t}");
                    v[0]
                })
                .collect();
            assert!(used.iter().all(|&i| i == used[0]), "{t}");
            firsts.insert(used[0]);
        }
        // ... while responses differ in it (a real fork).
        assert!(firsts.len() > 3, "{firsts:?}");
    }
}
