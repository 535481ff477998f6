//! Tokenizers: any Hugging Face `tokenizer.json` through the `tokenizers`
//! crate, and a character-level one built in code for the synthetic tasks.
use crate::error::{LlmError, Result};
use serde::{Deserialize, Serialize};
use std::path::Path;

/// Special tokens of the character tokenizer, ids 0..4 in this order.
pub const PAD: &str = "<pad>";
/// Beginning of sequence.
pub const BOS: &str = "<s>";
/// End of sequence (the stop token of completions).
pub const EOS: &str = "</s>";
/// Unknown character.
pub const UNK: &str = "<unk>";

/// Characters of the character tokenizer after the specials: digits,
/// arithmetic and punctuation, space, newline and lowercase letters
/// (so short English prompts of a JSONL file still encode).
pub const CHARS: &str = "0123456789+-*/=()<>.,:;?!# \nabcdefghijklmnopqrstuvwxyz";

/// The pre-tokenizer regex of Qwen2's tokenizer: words with their leading
/// space, every digit on its own (`\p{N}`), punctuation runs, newlines and
/// other spaces. Used by [`Tok::train_bpe`], so digits are single tokens.
pub const QWEN2_SPLIT: &str = r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";

/// Which tokenizer `entropic llm pretrain` builds (`[tokenizer]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum TokKind {
    /// [`Tok::char_level`] (58 tokens): the character bases.
    #[default]
    Char,
    /// A byte-level BPE trained on the generated corpus ([`Tok::train_bpe`]).
    Bpe,
}

/// The `[tokenizer]` table of an LLM scenario.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TokenizerConfig {
    /// `char` (the default) or `bpe`.
    pub kind: TokKind,
    /// BPE: vocabulary size (specials included). Training fails when the
    /// corpus cannot give this many tokens at `min_frequency`: the size is
    /// a floor, not a wish.
    pub vocab_size: usize,
    /// BPE: a merge is learnt only when its pair occurs at least this many
    /// times in the corpus.
    pub min_frequency: u64,
    /// BPE: training examples (prompt and response, as separate texts)
    /// generated for the tokenizer's corpus, with a generator seeded from
    /// the scenario's `seed` on its own stream.
    pub corpus: usize,
}

impl Default for TokenizerConfig {
    fn default() -> Self {
        TokenizerConfig {
            kind: TokKind::Char,
            vocab_size: 1024,
            min_frequency: 100,
            corpus: 20_000,
        }
    }
}

impl TokenizerConfig {
    /// Range checks; `file` is named in the error.
    pub fn validate(&self, file: &str) -> Result<()> {
        let bad =
            |k: &str, m: &str| Err(LlmError::input(file, format!("key `tokenizer.{k}`: {m}")));
        if !(64..=65_536).contains(&self.vocab_size) {
            return bad("vocab_size", "must be in 64..=65536");
        }
        if self.min_frequency < 1 {
            return bad("min_frequency", "must be at least 1");
        }
        if !(1..=10_000_000).contains(&self.corpus) {
            return bad("corpus", "must be in 1..=10000000");
        }
        Ok(())
    }
}

/// A tokenizer with the ids the sampler needs.
pub struct Tok {
    inner: tokenizers::Tokenizer,
}

impl Tok {
    /// Loads a `tokenizer.json`; a missing or corrupt file is an input error.
    pub fn load(path: &Path) -> Result<Self> {
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path)
            .map_err(|e| LlmError::input(&file, format!("cannot read: {e}")))?;
        Self::from_json(&text).map_err(|e| LlmError::input(&file, e.to_string()))
    }

    fn from_json(text: &str) -> Result<Self> {
        let inner: tokenizers::Tokenizer = text.parse().map_err(|e| {
            LlmError::input("tokenizer.json", format!("not a valid tokenizer: {e}"))
        })?;
        Ok(Tok { inner })
    }

    /// The character-level tokenizer: a BPE model with no merges over
    /// [`CHARS`] (one token per character, no pre-tokenizer so spaces are
    /// tokens), specials as added tokens, and a `Fuse` decoder that joins
    /// tokens without spaces. Written as JSON, so Hugging Face tokenizers
    /// reads the saved file the same way.
    pub fn char_level() -> Result<Self> {
        let mut vocab = serde_json::Map::new();
        let mut added = Vec::new();
        for (i, s) in [PAD, BOS, EOS, UNK].iter().enumerate() {
            vocab.insert(s.to_string(), i.into());
            added.push(
                serde_json::json!({"id": i, "content": s, "single_word": false, "lstrip": false,
                "rstrip": false, "normalized": false, "special": true}),
            );
        }
        for (i, c) in CHARS.chars().enumerate() {
            vocab.insert(c.to_string(), (i + 4).into());
        }
        let j = serde_json::json!({
            "version": "1.0", "truncation": null, "padding": null, "added_tokens": added,
            "normalizer": null, "pre_tokenizer": null, "post_processor": null,
            "decoder": {"type": "Fuse"},
            "model": {"type": "BPE", "dropout": null, "unk_token": UNK, "continuing_subword_prefix": null,
                "end_of_word_suffix": null, "fuse_unk": false, "byte_fallback": false, "ignore_merges": false,
                "vocab": vocab, "merges": []}
        });
        Self::from_json(&j.to_string())
    }

    /// A byte-level BPE trained on `texts` (deterministic: the same texts
    /// give the same tokenizer, whatever the thread count; merges are
    /// ranked by count, ties by the pair's ids):
    /// - specials `<pad> <s> </s> <unk>` are ids 0..4, as in [`char_level`](Self::char_level);
    /// - pre-tokenizer: Qwen2's split ([`QWEN2_SPLIT`], digits one by one)
    ///   then byte-level mapping, so digits are single tokens and a word
    ///   keeps its leading space;
    /// - the alphabet is the bytes the corpus uses (not all 256: each token
    ///   of the vocabulary comes from the corpus); other bytes encode to
    ///   `<unk>`;
    /// - post-processor: `<s> $A` (and `<s> $A <s> $B`), so a tokenizer
    ///   that adds special tokens (transformers' `AutoTokenizer`) prepends
    ///   BOS as the model's `bos_token_id`; [`encode`](Self::encode) adds
    ///   none, its callers prepend BOS themselves;
    /// - decoder: byte-level, so `decode(encode(t)) == t`.
    ///
    /// Fails when fewer than `cfg.vocab_size` tokens reach `min_frequency`.
    pub fn train_bpe<S: AsRef<str> + Send>(
        texts: impl Iterator<Item = S> + Send,
        cfg: &TokenizerConfig,
    ) -> Result<Self> {
        use tokenizers::models::bpe::BpeTrainerBuilder;
        use tokenizers::models::TrainerWrapper;
        use tokenizers::AddedToken;
        let specials = [PAD, BOS, EOS, UNK];
        let added: Vec<serde_json::Value> = specials
            .iter()
            .enumerate()
            .map(|(i, s)| {
                serde_json::json!({"id": i, "content": s, "single_word": false,
                "lstrip": false, "rstrip": false, "normalized": false, "special": true})
            })
            .collect();
        let bos = serde_json::json!({"SpecialToken": {"id": BOS, "type_id": 0}});
        let j = serde_json::json!({
            "version": "1.0", "truncation": null, "padding": null, "added_tokens": added,
            "normalizer": null,
            "pre_tokenizer": {"type": "Sequence", "pretokenizers": [
                {"type": "Split", "pattern": {"Regex": QWEN2_SPLIT}, "behavior": "Isolated", "invert": false},
                {"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": false, "use_regex": false}]},
            "post_processor": {"type": "TemplateProcessing",
                "single": [bos, {"Sequence": {"id": "A", "type_id": 0}}],
                "pair": [bos, {"Sequence": {"id": "A", "type_id": 0}}, bos, {"Sequence": {"id": "B", "type_id": 1}}],
                "special_tokens": {BOS: {"id": BOS, "ids": [1], "tokens": [BOS]}}},
            "decoder": {"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": false, "use_regex": false},
            "model": {"type": "BPE", "dropout": null, "unk_token": UNK, "continuing_subword_prefix": null,
                "end_of_word_suffix": null, "fuse_unk": false, "byte_fallback": false, "ignore_merges": false,
                "vocab": {}, "merges": []}
        });
        let mut tok = Self::from_json(&j.to_string())?;
        let mut trainer: TrainerWrapper = BpeTrainerBuilder::new()
            .vocab_size(cfg.vocab_size)
            .min_frequency(cfg.min_frequency)
            .show_progress(false)
            .special_tokens(
                specials
                    .iter()
                    .map(|s| AddedToken::from(s.to_string(), true))
                    .collect(),
            )
            .build()
            .into();
        tok.inner
            .train(&mut trainer, texts)
            .map_err(|source| LlmError::Tokenizer {
                what: "BPE training".into(),
                source,
            })?;
        for (i, s) in specials.iter().enumerate() {
            if tok.id(s) != Some(i as u32) {
                return Err(LlmError::Other(format!(
                    "BPE training put {s} at {:?}, not {i}",
                    tok.id(s)
                )));
            }
        }
        let got = tok.vocab_size();
        if got < cfg.vocab_size {
            return Err(LlmError::Other(format!(
                "BPE training: the corpus gives only {got} tokens at min_frequency {} \
                 (vocab_size {} asked); enlarge `tokenizer.corpus` or lower `tokenizer.vocab_size`",
                cfg.min_frequency, cfg.vocab_size
            )));
        }
        Ok(tok)
    }

    /// Token ids of `text` with the post-processor's special tokens (BOS
    /// for a trained BPE; none for the character tokenizer), as
    /// transformers' tokenizers encode by default.
    pub fn encode_with_specials(&self, text: &str) -> Result<Vec<u32>> {
        self.ids(text, true)
    }

    /// Writes `tokenizer.json` (and the specials into `tokenizer_config.json`
    /// beside it, so transformers' `AutoTokenizer` finds them).
    pub fn save(&self, dir: &Path) -> Result<()> {
        let path = dir.join("tokenizer.json");
        self.inner
            .save(&path, true)
            .map_err(|source| LlmError::Tokenizer {
                what: path.display().to_string(),
                source,
            })?;
        if self.id(EOS).is_some() {
            let cfg = serde_json::json!({"tokenizer_class": "PreTrainedTokenizerFast", "bos_token": BOS,
                "eos_token": EOS, "pad_token": PAD, "unk_token": UNK});
            let p = dir.join("tokenizer_config.json");
            std::fs::write(&p, cfg.to_string()).map_err(|e| LlmError::Io {
                path: p.display().to_string(),
                source: e,
            })?;
        }
        Ok(())
    }

    /// Token ids of `text`, without adding special tokens.
    pub fn encode(&self, text: &str) -> Result<Vec<u32>> {
        self.ids(text, false)
    }

    /// The ids of `text`'s encoding, with or without the post-processor's
    /// special tokens.
    fn ids(&self, text: &str, specials: bool) -> Result<Vec<u32>> {
        let enc = self
            .inner
            .encode(text, specials)
            .map_err(|source| LlmError::Tokenizer {
                what: "encode".into(),
                source,
            })?;
        Ok(enc.get_ids().to_vec())
    }

    /// The first character of `text` that no token of its encoding covers
    /// (by the encoding's offsets into `text`) other than the model's
    /// unknown token, whitespace excepted (a pre-tokenizer may drop it): a
    /// character the tokenizer cannot encode, which a tokenizer without
    /// byte fallback turns into its unknown token or drops silently.
    /// `None` when every character is covered.
    pub fn first_unencodable(&self, text: &str) -> Result<Option<char>> {
        let enc = self
            .inner
            .encode(text, false)
            .map_err(|source| LlmError::Tokenizer {
                what: "encode".into(),
                source,
            })?;
        use tokenizers::models::ModelWrapper;
        let unk_name = match self.inner.get_model() {
            ModelWrapper::BPE(b) => b.unk_token.clone(),
            ModelWrapper::WordPiece(w) => Some(w.unk_token.clone()),
            ModelWrapper::WordLevel(w) => Some(w.unk_token.clone()),
            ModelWrapper::Unigram(_) => None,
        };
        let unk = unk_name.and_then(|t| self.inner.token_to_id(&t));
        let mut covered = vec![false; text.len()];
        for (&(a, b), &id) in enc.get_offsets().iter().zip(enc.get_ids()) {
            if Some(id) == unk {
                continue;
            }
            for c in covered.iter_mut().take(b.min(text.len())).skip(a) {
                *c = true;
            }
        }
        Ok(text
            .char_indices()
            .find(|(i, ch)| !ch.is_whitespace() && !covered[*i])
            .map(|(_, ch)| ch))
    }

    /// Text of `ids`, special tokens skipped.
    pub fn decode(&self, ids: &[u32]) -> Result<String> {
        self.inner
            .decode(ids, true)
            .map_err(|source| LlmError::Tokenizer {
                what: "decode".into(),
                source,
            })
    }

    /// The string of one token (its vocabulary entry).
    pub fn token(&self, id: u32) -> String {
        self.inner.id_to_token(id).unwrap_or_default()
    }

    /// Id of a token string, if in the vocabulary.
    pub fn id(&self, token: &str) -> Option<u32> {
        self.inner.token_to_id(token)
    }

    /// Vocabulary size including added tokens.
    pub fn vocab_size(&self) -> usize {
        self.inner.get_vocab_size(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The character tokenizer has no byte fallback: a character outside
    /// its alphabet becomes the unknown token, and is found.
    #[test]
    fn unencodable_characters_are_found() {
        let t = Tok::char_level().unwrap();
        assert_eq!(t.first_unencodable("12+3=15").unwrap(), None);
        assert_eq!(t.first_unencodable("1+é=2").unwrap(), Some('é'));
        // and it is indeed encoded as the unknown token
        assert!(t.encode("1+é=2").unwrap().contains(&t.id(UNK).unwrap()));
    }
}
