//! GRPO on the candle Qwen2 with the entropy controller of `entropic-sim`
//! (`entropic llm grpo`).
//!
//! Per step, in this order (the toy's `entropic_sim::grpo::Trainer::step`
//! with the same cadence, docs/mathematics.md §7):
//! 1. learning rate from the schedule;
//! 2. rollout: `batch_prompts` training prompts, `group_size` completions
//!    each at temperature T, binary rewards, group advantages
//!    (`entropic_sim::advantage::group_advantages`, docs/mathematics.md §2), behaviour
//!    log-probs and entropies; with `lag = d` the batch trained on is the
//!    one sampled d steps ago (the first d by the initial policy);
//! 3. `measure = rollout`: one controller step on the batch's behaviour
//!    entropy;
//! 4. π_old: with `old_logp = "recompute"` (the default, the authors') a
//!    training-path forward pass (detached) over the batch under the
//!    current parameters, once, before the first update (skipped at
//!    `lag = 0`, where the rollout's scoring pass is that pass); with
//!    `"sampler"` the behaviour log-probs of step 2 (docs/mathematics.md §7);
//! 5. `ppo_epochs × minibatches` optimizer steps, each: training forward at
//!    T, (`measure = current`: one controller step on the minibatch's
//!    token-mean entropy under the current policy), the shared token loss
//!    as a candle surrogate ([`loss::policy_loss`]), backward, gradient
//!    clip, AdamW;
//! 6. after every `val_every`-th update (steps `s` with `(s + 1) %
//!    val_every == 0`, the toy's cadence of `entropy_exact`, so the
//!    measured states lie on a regular grid with the state before training,
//!    [`GrpoTrainer::validation`], as its origin) and after the last step:
//!    validation pass@1 and the token-mean entropy of those fresh samples
//!    (`entropy_exact`);
//! 7. one [`Record`] appended to `metrics.jsonl`; a checkpoint every
//!    `checkpoint_every` steps ([`resume`]).
//!
//! Left out: sequence packing and micro-batching (a minibatch is one
//! forward pass), dynamic sampling, top-p during training rollouts (the
//! ratio would need the truncated sampler's log-prob).
//!
//! (Over 600 lines: the trainer's stages share its model, optimizer,
//! controller and RNG streams; the config, loss, rollout and resume pieces
//! already live in submodules, and splitting the step's stages further is
//! left for a later pass.)
pub mod config;
pub mod loss;
pub mod resume;
pub mod rollout;
#[cfg(test)]
mod tests;

use crate::checkpoint::{self, stop_tokens};
use crate::error::{LlmError, Result};
use crate::model::Qwen2;
use crate::optim::{clip_grad_norm, AdamW, AdamWConfig};
use crate::sample::{generate, Draws, SampleConfig};
use crate::tasks::{reward, ArithConfig, Problem};
use crate::tokenizer::Tok;
use candle_core::{DType, Device};
use config::{GrpoFile, OldLogp};
use entropic_sim::advantage::group_advantages;
use entropic_sim::control::{Controller, Directive, Measurement, Method, Moment};
use entropic_sim::error::SimError;
use entropic_sim::metrics::Record;
use loss::{policy_loss, TokenData};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rollout::{response_logp_entropy, Rollout, Seq};
use std::collections::VecDeque;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Per-sequence, per-token (log-prob, entropy).
type PerToken = (Vec<Vec<f64>>, Vec<Vec<f64>>);

/// Statistics of one optimizer step.
#[derive(Debug, Clone, Copy, Default)]
struct UpdateStats {
    entropy: f64,
    hp_frac: f64,
    /// Entropy composition of the minibatch (docs/metrics.md; NaN when
    /// undefined, e.g. no HP token).
    hp_entropy_share: f64,
    tail_mass_hp: f64,
    clip_frac: f64,
    kl: f64,
    grad_norm: f64,
    tokens: usize,
    /// Token mean of |ratio − 1| before this update (0 when π_old is the
    /// policy being updated, as on a step's first minibatch).
    ratio_dev: f64,
}

/// A GRPO run bound to its output directory.
pub struct GrpoTrainer {
    pub cfg: GrpoFile,
    /// The config file's name (for error messages).
    pub file: String,
    out: PathBuf,
    base: String,
    model: Qwen2,
    reference: Option<Qwen2>,
    tok: Tok,
    task_json: serde_json::Value,
    arith: ArithConfig,
    val: Vec<Problem>,
    opt: AdamW,
    /// The shared controller (serde'd into every checkpoint).
    pub ctl: Controller,
    directive: Directive,
    data_rng: ChaCha8Rng,
    loss_rng: ChaCha8Rng,
    prompts_drawn: u64,
    queue: VecDeque<Rollout>,
    /// The batch the last step trained on ([`GrpoTrainer::last_batch`]).
    last_batch: Option<Rollout>,
    step: usize,
    bos: Option<u32>,
    pad: u32,
    stop: Vec<u32>,
}

/// A seeded ChaCha8 on its own stream (one per use, so they never interfere).
/// Keyed-draw streams of the sampler: training rollouts (stream 2, as the
/// sequential sampling RNG it replaces) and validation.
const SAMPLE_STREAM: u64 = 2;
const VALIDATE_STREAM: u64 = 1 << 32;

fn stream_rng(seed: u64, stream: u64) -> ChaCha8Rng {
    let mut r = ChaCha8Rng::seed_from_u64(seed);
    r.set_stream(stream);
    r
}

impl GrpoTrainer {
    /// Opens a run: resumes from the newest checkpoint in `out` when there is
    /// one (returning its step), else starts from the base checkpoint
    /// `base`. A config (or `--model`) differing from the checkpoint's is an
    /// input error naming the differing keys. `metrics.jsonl` is truncated
    /// to the records before the step the run continues from.
    pub fn open(
        cfg: GrpoFile,
        file: &str,
        base: &Path,
        out: &Path,
        device: &Device,
        dtype: DType,
    ) -> Result<(Self, Option<usize>)> {
        cfg.validate(file)?;
        // `out` and its missing parents, made one by one so that exactly
        // the folders made here are known (a path spelled with `..` or a
        // link is judged by what the file system does, not by its text)
        let mut missing: Vec<&Path> = out
            .ancestors()
            .take_while(|p| !p.as_os_str().is_empty() && std::fs::symlink_metadata(p).is_err())
            .collect();
        missing.reverse();
        let mut made: Vec<&Path> = Vec::new();
        let mut r = Ok(());
        for p in missing {
            match std::fs::create_dir(p) {
                Ok(()) => made.push(p),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
                Err(e) => {
                    r = Err(LlmError::Io {
                        path: p.display().to_string(),
                        source: e,
                    });
                    break;
                }
            }
        }
        if r.is_ok() && !out.is_dir() {
            r = Err(LlmError::input(out.display().to_string(), "not a folder"));
        }
        let r = r.and_then(|()| Self::open_in(cfg, file, base, out, device, dtype));
        if r.is_err() {
            // a rejected --model or config leaves no empty --out (nor a
            // parent made for it) behind: only the folders made above,
            // innermost first, and only while empty (remove_dir)
            for p in made.iter().rev() {
                if std::fs::remove_dir(p).is_err() {
                    break;
                }
            }
        }
        r
    }

    /// [`GrpoTrainer::open`] once `out` exists.
    fn open_in(
        cfg: GrpoFile,
        file: &str,
        base: &Path,
        out: &Path,
        device: &Device,
        dtype: DType,
    ) -> Result<(Self, Option<usize>)> {
        let cfg_json = serde_json::to_value(&cfg)?;
        let base_s = base.display().to_string();
        let g = &cfg.grpo;
        let found = resume::find(out)?;
        let (ck_dir, state) = match &found {
            Some((dir, st)) => {
                let diff = config::differing_keys(&st.config, &cfg_json);
                if !diff.is_empty() {
                    return Err(LlmError::input(
                        file,
                        format!(
                            "differs from the config of the checkpoint {} in keys: {}; use another --out, or the original config to resume",
                            dir.display(),
                            diff.join(", ")
                        ),
                    ));
                }
                if st.base != base_s {
                    return Err(LlmError::input(
                        "--model",
                        format!(
                            "`{base_s}` differs from the checkpoint's base model `{}`",
                            st.base
                        ),
                    ));
                }
                (dir.clone(), Some(st.clone()))
            }
            None => (base.to_path_buf(), None),
        };
        let ck = checkpoint::load(&ck_dir, device, dtype)?;
        let reference = if g.kl_coef > 0.0 {
            Some(checkpoint::load(base, device, dtype)?.model)
        } else {
            None
        };
        let arith: ArithConfig = match &cfg.task {
            Some(t) => t.clone(),
            None => ck
                .task
                .as_ref()
                .and_then(|t| t.get("arith"))
                .and_then(|v| serde_json::from_value(v.clone()).ok())
                .unwrap_or_default(),
        };
        let vocab = ck.model.config().vocab_size;
        if let Some(msg) = cfg.control.target_above_max(vocab) {
            return Err(LlmError::input(
                file,
                format!("key `control.target`: {msg} (the vocabulary)"),
            ));
        }
        let stop = stop_tokens(&ck);
        let mc = ck.model.config();
        let pad = mc.pad_id(&stop);
        let bos = mc.bos_token_id;
        let mut opt = AdamW::new(
            ck.model.vars(),
            AdamWConfig {
                lr: g.lr,
                beta1: g.adam_beta1,
                beta2: g.adam_beta2,
                eps: g.adam_eps,
                weight_decay: g.weight_decay,
            },
        )?;
        let metrics = out.join("metrics.jsonl");
        let seed = g.seed;
        let mut tr = GrpoTrainer {
            val: arith.validation_problems(g.val_problems),
            task_json: serde_json::json!({"arith": arith, "grpo": cfg_json}),
            arith,
            file: file.to_string(),
            out: out.to_path_buf(),
            base: base_s,
            model: ck.model,
            reference,
            tok: ck.tok,
            opt: AdamW::new(&[], AdamWConfig::default())?,
            ctl: Controller::new(cfg.control.clone()),
            directive: Directive::default(),
            data_rng: stream_rng(seed, 1),
            loss_rng: stream_rng(seed, 3),
            prompts_drawn: 0,
            queue: VecDeque::new(),
            last_batch: None,
            step: 0,
            bos,
            pad,
            stop,
            cfg,
        };
        let resumed = match state {
            Some(st) => {
                opt.load(&ck_dir.join("optimizer.safetensors"))?;
                tr.directive = st.controller.state.last;
                tr.ctl = st.controller;
                tr.data_rng = st.data_rng;
                tr.loss_rng = st.loss_rng;
                tr.prompts_drawn = st.prompts_drawn;
                tr.queue = st.queue.into();
                tr.step = st.step;
                Some(st.step)
            }
            None => None,
        };
        tr.opt = opt;
        resume::truncate_metrics(&metrics, tr.step)?;
        Ok((tr, resumed))
    }

    /// Steps completed.
    pub fn step_count(&self) -> usize {
        self.step
    }
    /// The rollout batch the last step trained on: its sampled tokens,
    /// rewards and advantages (for checks that twins sampled alike). `None`
    /// until this process has run a step: checkpoints do not keep it.
    pub fn last_batch(&self) -> Option<&Rollout> {
        self.last_batch.as_ref()
    }
    /// The policy being trained.
    pub fn model(&self) -> &Qwen2 {
        &self.model
    }
    /// The arm name of the records: `grpo` for no control, else the method.
    pub fn arm(&self) -> String {
        match self.ctl.cfg.method {
            Method::None => "grpo".into(),
            m => serde_json::to_value(m)
                .ok()
                .and_then(|v| v.as_str().map(String::from))
                .unwrap_or_default(),
        }
    }

    /// Runs steps until `until` (default and cap: `grpo.steps`) steps are
    /// completed, appending each record to `metrics.jsonl`, writing
    /// checkpoints, and passing each record to `on_record`.
    pub fn run(&mut self, until: Option<usize>, on_record: &mut dyn FnMut(&Record)) -> Result<()> {
        let steps = self.cfg.grpo.steps;
        let end = until.unwrap_or(steps).min(steps);
        let path = self.out.join("metrics.jsonl");
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .map_err(|e| LlmError::Io {
                path: path.display().to_string(),
                source: e,
            })?;
        while self.step < end {
            let rec = self.step()?;
            let line = serde_json::to_string(&rec)?;
            writeln!(f, "{line}")
                .and_then(|_| f.flush())
                .map_err(|e| LlmError::Io {
                    path: path.display().to_string(),
                    source: e,
                })?;
            on_record(&rec);
            if self.step.is_multiple_of(self.cfg.grpo.checkpoint_every) || self.step == steps {
                self.save_checkpoint()?;
            }
        }
        Ok(())
    }

    /// Writes a checkpoint of the current state (atomically); returns its directory.
    pub fn save_checkpoint(&self) -> Result<PathBuf> {
        let state = resume::TrainState {
            step: self.step,
            config: serde_json::to_value(&self.cfg)?,
            base: self.base.clone(),
            controller: self.ctl.clone(),
            data_rng: self.data_rng.clone(),
            loss_rng: self.loss_rng.clone(),
            prompts_drawn: self.prompts_drawn,
            queue: self.queue.iter().cloned().collect(),
        };
        resume::save(
            &self.out,
            &self.model,
            &self.tok,
            &self.task_json,
            &self.opt,
            &state,
        )
    }

    fn encode_prompt(&self, p: &Problem) -> Result<Vec<u32>> {
        let mut ids: Vec<u32> = self.bos.into_iter().collect();
        ids.extend(self.tok.encode(&p.prompt)?);
        Ok(ids)
    }

    fn sample_config(&self) -> SampleConfig {
        SampleConfig {
            max_new_tokens: self.cfg.grpo.max_new_tokens,
            temperature: self.cfg.grpo.temperature,
            top_p: 1.0,
            stop: self.stop.clone(),
            pad_id: self.pad,
            use_cache: true,
        }
    }

    /// Samples `prompts` in chunks of `sample_batch` with keyed `draws`
    /// (row = index in `prompts`, whatever the chunking).
    fn sample(&self, prompts: &[Vec<u32>], draws: Draws) -> Result<Vec<crate::sample::Sample>> {
        let sc = self.sample_config();
        let mut out = Vec::with_capacity(prompts.len());
        let n = self.cfg.grpo.sample_batch;
        for (c, chunk) in prompts.chunks(n).enumerate() {
            let d = draws.from_row((c * n) as u64);
            out.extend(generate(&self.model, chunk, &sc, d)?);
        }
        Ok(out)
    }

    /// Per-token (logp, entropy) of `seqs` under `model`, detached, as f64,
    /// in chunks of `sample_batch` sequences.
    fn score(&self, model: &Qwen2, seqs: &[&Seq]) -> Result<PerToken> {
        let t = self.cfg.grpo.temperature;
        let (mut lps, mut hs) = (Vec::new(), Vec::new());
        for chunk in seqs.chunks(self.cfg.grpo.sample_batch) {
            let (lp, h) = response_logp_entropy(model, chunk, self.pad, t)?;
            let lp: Vec<f32> = lp.detach().to_vec1()?;
            let h: Vec<f32> = h.detach().to_vec1()?;
            let mut o = 0;
            for s in chunk {
                let n = s.completion.len();
                lps.push(lp[o..o + n].iter().map(|&x| x as f64).collect());
                hs.push(h[o..o + n].iter().map(|&x| x as f64).collect());
                o += n;
            }
        }
        Ok((lps, hs))
    }

    /// One rollout batch from the current policy; also returns the number
    /// of generated tokens and the sampling seconds.
    fn rollout(&mut self) -> Result<(Rollout, usize, f64)> {
        let g = self.cfg.grpo.group_size;
        // The rollout's ordinal: the keyed draws' step (batches sampled so
        // far, counted by the prompts drawn, which checkpoints keep).
        let ordinal = self.prompts_drawn / self.cfg.grpo.batch_prompts.max(1) as u64;
        let mut probs = Vec::with_capacity(self.cfg.grpo.batch_prompts);
        for _ in 0..self.cfg.grpo.batch_prompts {
            probs.push(self.arith.train_example(0.0, &mut self.data_rng).0);
            self.prompts_drawn += 1;
        }
        let mut prompts = Vec::with_capacity(probs.len() * g);
        for p in &probs {
            let ids = self.encode_prompt(p)?;
            prompts.extend(std::iter::repeat_n(ids, g));
        }
        let t0 = Instant::now();
        let draws = Draws::new(self.cfg.grpo.seed, SAMPLE_STREAM, ordinal);
        let samples = self.sample(&prompts, draws)?;
        let secs = t0.elapsed().as_secs_f64();
        let gen_tokens: usize = samples.iter().map(|s| s.tokens.len()).sum();
        let mut seqs = Vec::with_capacity(samples.len());
        let mut adv = vec![0.0; g];
        for (gi, p) in probs.iter().enumerate() {
            let grp = &samples[gi * g..(gi + 1) * g];
            let mut rewards = Vec::with_capacity(g);
            for s in grp {
                rewards.push(reward(&self.tok.decode(&s.tokens)?, &p.answer));
            }
            let gp = &self.cfg.grpo;
            group_advantages(&rewards, gp.adv_std, gp.adv_eps, &mut adv);
            for (k, s) in grp.iter().enumerate() {
                seqs.push(Seq {
                    prompt: prompts[gi * g + k].clone(),
                    completion: s.tokens.clone(),
                    reward: rewards[k],
                    adv: adv[k],
                    logp_old: Vec::new(),
                    ent_old: Vec::new(),
                    logp_ref: None,
                });
            }
        }
        let refs: Vec<&Seq> = seqs.iter().collect();
        let (lp, h) = self.score(&self.model, &refs)?;
        let lref = match &self.reference {
            Some(r) => Some(self.score(r, &refs)?.0),
            None => None,
        };
        for (i, s) in seqs.iter_mut().enumerate() {
            s.logp_old = lp[i].clone();
            s.ent_old = h[i].clone();
            s.logp_ref = lref.as_ref().map(|l| l[i].clone());
        }
        let r = Rollout {
            seqs,
            group_size: g,
            sampled_at: self.step,
        };
        Ok((r, gen_tokens, secs))
    }

    /// The toy's error for a NaN or infinite quantity ([`SimError::NonFinite`]).
    fn nonfinite(&self, what: &str) -> LlmError {
        SimError::NonFinite {
            quantity: what.into(),
            step: self.step,
            seed: self.cfg.grpo.seed,
            arm: self.arm(),
        }
        .into()
    }

    /// π_old of the ratio for `batch` (step 4 of the module doc): `None`
    /// when the sequences' own `logp_old` is it (`old_logp = "sampler"`, or
    /// a batch sampled by these parameters this step), else the
    /// recomputed log-probs.
    fn old_logp_for(&self, batch: &Rollout) -> Result<Option<Vec<Vec<f64>>>> {
        if self.cfg.grpo.old_logp == OldLogp::Sampler || batch.sampled_at == self.step {
            return Ok(None);
        }
        self.recompute_old_logp(batch).map(Some)
    }

    /// Per-token log-probs of `batch`'s completions under the current
    /// parameters: the training-path forward pass, detached.
    fn recompute_old_logp(&self, batch: &Rollout) -> Result<Vec<Vec<f64>>> {
        let refs: Vec<&Seq> = batch.seqs.iter().collect();
        Ok(self.score(&self.model, &refs)?.0)
    }

    /// Step 5: `ppo_epochs × minibatches` optimizer steps on `batch` with
    /// π_old `old` (`None`: the sequences' `logp_old`); returns the last
    /// step's statistics, the trained tokens and each step's mean
    /// |ratio − 1|.
    fn train(
        &mut self,
        batch: &Rollout,
        old: Option<&[Vec<f64>]>,
    ) -> Result<(UpdateStats, usize, Vec<f64>)> {
        let g = &self.cfg.grpo;
        let (epochs, groups) = (g.ppo_epochs, batch.groups());
        let mbs = g.minibatches.min(groups).max(1);
        let mut last = UpdateStats::default();
        let mut tokens = 0;
        let mut devs = Vec::with_capacity(epochs * mbs);
        for _epoch in 0..epochs {
            for mb in 0..mbs {
                let (g0, g1) = (mb * groups / mbs, (mb + 1) * groups / mbs);
                let (s0, s1) = (g0 * batch.group_size, g1 * batch.group_size);
                last = self.update(batch, s0, s1, old.map(|o| &o[s0..s1]))?;
                tokens += last.tokens;
                devs.push(last.ratio_dev);
            }
        }
        Ok((last, tokens, devs))
    }

    /// One optimizer step on sequences `s0..s1` of `batch`, with π_old
    /// `old` for those sequences (`None`: their `logp_old`).
    fn update(
        &mut self,
        batch: &Rollout,
        s0: usize,
        s1: usize,
        old: Option<&[Vec<f64>]>,
    ) -> Result<UpdateStats> {
        let seqs: Vec<&Seq> = batch.seqs[s0..s1].iter().collect();
        let t = self.cfg.grpo.temperature;
        let (logp, ent) = response_logp_entropy(&self.model, &seqs, self.pad, t)?;
        let n = logp.dim(0)?;
        let mean_h = if n > 0 {
            ent.to_dtype(DType::F64)?.mean_all()?.to_scalar::<f64>()?
        } else {
            0.0
        };
        if !mean_h.is_finite() {
            return Err(self.nonfinite("entropy"));
        }
        let cat =
            |f: &dyn Fn(&Seq) -> Vec<f64>| -> Vec<f64> { seqs.iter().flat_map(|s| f(s)).collect() };
        let adv = cat(&|s| vec![s.adv; s.completion.len()]);
        // the behaviour's log-probs (the controller's `sampled_nll`) and the
        // ratio's denominator (the same unless π_old was recomputed)
        let logp_behaviour = cat(&|s| s.logp_old.clone());
        let logp_old = match old {
            Some(o) => o.concat(),
            None => logp_behaviour.clone(),
        };
        let ratio_dev = {
            let lp: Vec<f32> = logp.detach().to_vec1()?;
            let d: f64 = lp
                .iter()
                .zip(&logp_old)
                .map(|(&l, &o)| ((l as f64 - o).exp() - 1.0).abs())
                .sum();
            d / n.max(1) as f64
        };
        let logp_ref = self
            .reference
            .as_ref()
            .map(|_| cat(&|s| s.logp_ref.clone().unwrap_or_default()));
        let offered = self.ctl.offer(Moment::OptimizerStep, || Measurement {
            entropy: mean_h,
            sampled_nll: -logp_behaviour.iter().sum::<f64>() / n.max(1) as f64,
        });
        if let Some(d) = offered {
            self.directive = d;
        }
        let data = TokenData {
            adv: &adv,
            logp_old: &logp_old,
            logp_ref: logp_ref.as_deref(),
        };
        let pl = policy_loss(
            &logp,
            &ent,
            &data,
            &self.cfg.grpo.loss_config(),
            &self.ctl.cfg,
            &self.directive,
            &mut self.loss_rng,
        )?;
        if !pl.loss.loss.is_finite() {
            return Err(self.nonfinite("loss"));
        }
        let mut grads = pl.surrogate.backward()?;
        let clip = self.cfg.grpo.grad_clip;
        let max = if clip > 0.0 { clip } else { f64::INFINITY };
        let grad_norm = clip_grad_norm(self.model.vars(), &mut grads, max)?;
        if !grad_norm.is_finite() {
            return Err(self.nonfinite("grad_norm"));
        }
        self.opt.step(&grads)?;
        Ok(UpdateStats {
            entropy: mean_h,
            hp_frac: pl.loss.stats.hp_frac,
            hp_entropy_share: pl.loss.stats.hp_entropy_share,
            tail_mass_hp: pl.loss.stats.tail_mass_hp,
            clip_frac: pl.loss.stats.clip_frac,
            kl: pl.loss.stats.kl,
            grad_norm,
            tokens: n,
            ratio_dev,
        })
    }

    /// Validation pass@1 and token-mean entropy (as in a record's
    /// `val_pass_at_1` and `entropy_exact`) of the current policy, now:
    /// before the first step it measures the state before training, which
    /// is the same for every run of one base and seed (keyed draws).
    pub fn validation(&self) -> Result<(f64, f64)> {
        self.validate()
    }

    /// Validation pass@1 (one sample per problem at T, keyed draws of its
    /// own stream, so validation never moves the training draws) and the
    /// token-mean entropy of those samples under the current policy.
    fn validate(&self) -> Result<(f64, f64)> {
        let draws = Draws::new(self.cfg.grpo.seed, VALIDATE_STREAM, self.step as u64);
        let prompts = self
            .val
            .iter()
            .map(|p| self.encode_prompt(p))
            .collect::<Result<Vec<_>>>()?;
        let samples = self.sample(&prompts, draws)?;
        let mut pass = 0.0;
        let mut seqs = Vec::with_capacity(samples.len());
        for ((s, p), ids) in samples.iter().zip(&self.val).zip(prompts) {
            pass += reward(&self.tok.decode(&s.tokens)?, &p.answer);
            seqs.push(Seq {
                prompt: ids,
                completion: s.tokens.clone(),
                reward: 0.0,
                adv: 0.0,
                logp_old: vec![],
                ent_old: vec![],
                logp_ref: None,
            });
        }
        let refs: Vec<&Seq> = seqs.iter().collect();
        let (_, h) = self.score(&self.model, &refs)?;
        let (hs, hn) = h.iter().fold((0.0, 0), |(s, n), v| {
            (s + v.iter().sum::<f64>(), n + v.len())
        });
        Ok((pass / self.val.len().max(1) as f64, hs / hn.max(1) as f64))
    }

    /// One training step (see the module doc); returns its record. Does not
    /// write files (see [`Self::run`]).
    pub fn step(&mut self) -> Result<Record> {
        // in candle's CPU pool, as `generate` (crate::sample) explains
        let dev = self.model.device().clone();
        dev.with_context(|| self.step_here())
    }

    /// [`Self::step`] on the calling thread.
    fn step_here(&mut self) -> Result<Record> {
        let start = Instant::now();
        let g = self.cfg.grpo.clone();
        // 1. learning rate
        let lr = g.lr_at(self.step);
        self.opt.cfg.lr = lr;
        // 2. rollout (the first `lag` batches come from the initial policy)
        if self.queue.is_empty() && self.step == 0 {
            for _ in 0..g.lag {
                let (r, _, _) = self.rollout()?;
                self.queue.push_back(r);
            }
        }
        let (fresh, gen_tokens, sample_s) = self.rollout()?;
        self.queue.push_back(fresh);
        let batch = self.queue.pop_front().unwrap_or_default();
        // 3. controller on the behaviour entropy (measure = rollout)
        let behaviour_h = batch.token_mean(|s| &s.ent_old);
        let offered = self.ctl.offer(Moment::RolloutBatch, || Measurement {
            entropy: behaviour_h,
            sampled_nll: -batch.token_mean(|s| &s.logp_old),
        });
        if let Some(d) = offered {
            self.directive = d;
        }
        // 4. π_old, once per rollout batch, before the first update
        let t_train = Instant::now();
        let old = self.old_logp_for(&batch)?;
        // 5. ppo_epochs × minibatches optimizer steps
        let (last, train_tokens, _) = self.train(&batch, old.as_deref())?;
        let train_s = t_train.elapsed().as_secs_f64();
        // 6. validation
        let val = if g.val_every > 0
            && ((self.step + 1).is_multiple_of(g.val_every) || self.step + 1 == g.steps)
        {
            Some(self.validate()?)
        } else {
            None
        };
        // 7. record (the controller's fields by the rule shared with the toy)
        let entropy = self.ctl.seen_entropy(behaviour_h, last.entropy);
        let rec = Record {
            entropy_exact: val.map(|v| v.1),
            hp_frac: Some(last.hp_frac),
            hp_entropy_share: Some(last.hp_entropy_share).filter(|x| x.is_finite()),
            tail_mass_hp: Some(last.tail_mass_hp).filter(|x| x.is_finite()),
            reward_mean: Some(batch.reward_mean()),
            zero_adv_frac: Some(batch.zero_adv_frac()),
            val_pass_at_1: val.map(|v| v.0),
            clip_frac: Some(last.clip_frac),
            kl: (g.kl_coef > 0.0).then_some(last.kl),
            grad_norm: Some(last.grad_norm),
            lr: Some(lr),
            tokens: Some(batch.seqs.iter().map(|s| s.completion.len() as u64).sum()),
            sample_tokens_per_s: Some(gen_tokens as f64 / sample_s.max(1e-9)),
            train_tokens_per_s: Some(train_tokens as f64 / train_s.max(1e-9)),
            seconds: Some(start.elapsed().as_secs_f64()),
            ..Record::controlled(
                self.arm(),
                self.step,
                g.seed,
                entropy,
                &self.ctl.cfg,
                &self.directive,
            )
        };
        self.step += 1;
        self.last_batch = Some(batch);
        Ok(rec)
    }
}

/// The record fields that measure time, not training: two runs that
/// trained identically (an uninterrupted run and a killed-and-resumed one)
/// differ only in these.
pub const TIMING_FIELDS: [&str; 3] = ["sample_tokens_per_s", "train_tokens_per_s", "seconds"];

/// A run's `metrics.jsonl` as JSON objects without [`TIMING_FIELDS`], for
/// comparing runs record by record (empty when the file is absent).
pub fn records_without_timing(metrics: &Path) -> Result<Vec<serde_json::Value>> {
    let text = match std::fs::read_to_string(metrics) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => {
            return Err(LlmError::Io {
                path: metrics.display().to_string(),
                source: e,
            })
        }
    };
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let mut v: serde_json::Value =
                serde_json::from_str(l).map_err(|source| LlmError::JsonFile {
                    path: metrics.display().to_string(),
                    source,
                })?;
            if let Some(o) = v.as_object_mut() {
                for k in TIMING_FIELDS {
                    o.remove(k);
                }
            }
            Ok(v)
        })
        .collect()
}

/// `entropic llm grpo`: opens (or resumes) the run, says on stderr when it
/// resumes and from which step, runs to the end and prints a summary line.
pub fn run_command(
    config: &Path,
    base: &Path,
    out: &Path,
    device: &Device,
    dtype: DType,
    quiet: bool,
) -> Result<()> {
    let file = config.display().to_string();
    let cfg = GrpoFile::load(config)?;
    let (mut tr, resumed) = GrpoTrainer::open(cfg, &file, base, out, device, dtype)?;
    if let Some(s) = resumed {
        eprintln!(
            "resuming {} from the checkpoint at step {s} ({})",
            out.display(),
            out.join(resume::ckpt_name(s)).display()
        );
    }
    let steps = tr.cfg.grpo.steps;
    let start = Instant::now();
    let mut last: Option<Record> = None;
    tr.run(None, &mut |r: &Record| {
        if !quiet {
            eprintln!(
                "step {:>5}/{steps}  H {:.4}  α {:>7}  hp {:.3}  reward {:.3}{}  sample {:.0} tok/s  train {:.0} tok/s",
                r.step,
                r.entropy,
                r.alpha.map_or("-".into(), |a| format!("{a:.4}")),
                r.hp_frac.unwrap_or(0.0),
                r.reward_mean.unwrap_or(0.0),
                r.val_pass_at_1.map_or(String::new(), |v| format!("  val pass@1 {v:.3}")),
                r.sample_tokens_per_s.unwrap_or(0.0),
                r.train_tokens_per_s.unwrap_or(0.0),
            );
        }
        last = Some(r.clone());
    })?;
    match last {
        Some(r) => println!(
            "{} steps ({} this run, {:.0} s) → {}; final entropy {:.4}, reward {:.3}",
            steps,
            steps - resumed.unwrap_or(0),
            start.elapsed().as_secs_f64(),
            out.display(),
            r.entropy,
            r.reward_mean.unwrap_or(0.0)
        ),
        None => println!("{}: already complete ({steps} steps)", out.display()),
    }
    Ok(())
}
