//! Tokenizers: any Hugging Face `tokenizer.json` through the `tokenizers`
//! crate, and a character-level one built in code for the synthetic tasks.
use crate::error::{LlmError, Result};
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
        let enc = self
            .inner
            .encode(text, false)
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
