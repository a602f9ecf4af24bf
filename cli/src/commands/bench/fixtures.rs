//! What `zkinfer bench` measures: the bundled model configs (ONNX file + a batch of inputs, compiled into the
//! binary), the synthetic sweep of byte dot-product circuits filling 2^k rows, and turning `--config` names into
//! chains of segment circuits ready to prove — or into a skip, before any heavy work, when a model has a layer that
//! alone does not fit the memory budget (or a circuit's estimate does not fit this machine).

use std::path::Path;
use std::sync::Arc;

use anyhow::{bail, Result};
use halo2_proofs::halo2curves::ff::PrimeField;
use halo2_proofs::plonk::{Circuit, ConstraintSystem};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use zkinfer_testkit::DotProductCircuit;
use zkinfer_backend::Fr;
use zkinfer_circuits::segments::Budget;
use zkinfer_circuits::{ModelCircuit, Visibility};

use super::report::ConfigReport;
use crate::chain::Seeds;
use crate::commands::setup::plan_keys;
use crate::model_file::{self, gib};
use crate::ui::Ui;
use crate::{input, visibility};

/// A model config: ONNX file and a batch of inputs, both compiled into the binary so `bench` runs anywhere.
pub struct Fixture {
    pub name: &'static str,
    pub title: &'static str,
    onnx: &'static [u8],
    inputs: &'static [u8],
}

macro_rules! fixture {
    ($name:literal, $title:literal, $stem:literal, $inputs:literal) => {
        Fixture {
            name: $name,
            title: $title,
            onnx: include_bytes!(concat!("../../../../model-import/fixtures/", $stem, ".onnx")),
            inputs: include_bytes!(concat!("../../../../model-import/fixtures/", $inputs)),
        }
    };
}

const FIXTURES: [Fixture; 7] = [
    fixture!("digits", "digits CNN, 8x8 gray, 10 classes", "digits_int8", "digits_test_x.npy"),
    fixture!("mobilenet-0.35-96", "MobileNet v2 0.35, 96x96 RGB", "mobilenet_v2_0.35_96_int8", "mobilenet_v2_0.35_96_inputs.npy"),
    fixture!("mobilenet-0.5-224", "MobileNet v2 0.5, 224x224 RGB", "mobilenet_v2_0.5_224_int8", "mobilenet_v2_0.5_224_inputs.npy"),
    fixture!("mobilenet-0.75-192", "MobileNet v2 0.75, 192x192 RGB", "mobilenet_v2_0.75_192_int8", "mobilenet_v2_0.75_192_inputs.npy"),
    fixture!("mobilenet-v3-small-style", "MobileNet v3 small style, 32x32 RGB", "mobilenet_v3_small_style_int8", "mobilenet_v3_small_style_inputs.npy"),
    fixture!("efficientnet-lite-style", "EfficientNet-Lite style, 32x32 RGB", "efficientnet_lite_style_int8", "efficientnet_lite_style_inputs.npy"),
    fixture!("shufflenet-style", "ShuffleNet v2 style, 32x32 RGB", "shufflenet_style_int8", "shufflenet_style_inputs.npy"),
];

/// The MobileNet v2 configs and the mobile CNNs (the `mobilenets` and `mobile-cnns` groups).
const MOBILENETS: std::ops::Range<usize> = 1..4;
const MOBILE_CNNS: std::ops::Range<usize> = 4..7;

/// The synthetic sweep: byte dot-product circuits filling 2^k rows.
const SYNTHETIC_K: std::ops::RangeInclusive<u32> = 12..=20;

/// The names `--config` accepts, for the help text and errors.
pub const CONFIG_HELP: &str = "digits, mobilenet-0.35-96, mobilenet-0.5-224, mobilenet-0.75-192, mobilenets (the \
three), mobilenet-v3-small-style, efficientnet-lite-style, shufflenet-style, mobile-cnns (those three), synthetic \
(k = 12..20), synthetic-K (one k), all";

/// One config to run, as named on the command line.
pub enum Planned {
    Model(&'static Fixture),
    Synthetic(u32),
}

/// One config ready to benchmark: a chain of segment circuits grouped by key (a single circuit is a chain of one).
pub struct Case<C> {
    /// Filled in as the case runs.
    pub report: ConfigReport,
    /// One per distinct segment circuit, in keygen order; every segment belongs to exactly one.
    pub keys: Vec<KeyCase<C>>,
}

/// A distinct segment circuit: its keygen circuit and the segments proved with its key.
pub struct KeyCase<C> {
    pub k: u32,
    pub keygen_circuit: C,
    pub segments: Vec<SegmentCase<C>>,
}

/// One segment of the chain: its position, its circuit with the witness and its instance column.
pub struct SegmentCase<C> {
    pub index: usize,
    pub circuit: C,
    pub instances: Vec<Fr>,
}

impl<C> Case<C> {
    /// Segments in the chain.
    pub fn segments(&self) -> usize {
        self.keys.iter().map(|k| k.segments.len()).sum()
    }
}

pub enum Prepared<C> {
    Run(Case<C>),
    Skip(ConfigReport),
}

pub fn parse_configs(names: &[String]) -> Result<Vec<Planned>> {
    let mut out = Vec::new();
    let fixture = |n: &str| FIXTURES.iter().find(|f| f.name == n);
    for name in names.iter().flat_map(|n| n.split(',')).map(str::trim).filter(|n| !n.is_empty()) {
        match name {
            "all" => {
                out.extend(FIXTURES.iter().map(Planned::Model));
                out.extend(SYNTHETIC_K.map(Planned::Synthetic));
            }
            "mobilenets" => out.extend(FIXTURES[MOBILENETS].iter().map(Planned::Model)),
            "mobile-cnns" => out.extend(FIXTURES[MOBILE_CNNS].iter().map(Planned::Model)),
            "synthetic" => out.extend(SYNTHETIC_K.map(Planned::Synthetic)),
            n if fixture(n).is_some() => out.push(Planned::Model(fixture(n).expect("checked"))),
            n => match n.strip_prefix("synthetic-").map(str::parse::<u32>) {
                Some(Ok(k)) if (10..=24).contains(&k) => out.push(Planned::Synthetic(k)),
                Some(_) => bail!("config `{n}`: synthetic-K takes k in 10..=24"),
                None => bail!("unknown config `{n}` (expected {CONFIG_HELP})"),
            },
        }
    }
    if out.is_empty() {
        bail!("no config given (expected {CONFIG_HELP})");
    }
    Ok(out)
}

/// The chain's salts and seeds, fixed from `--seed`: a benchmark needs no secrecy, and fixed values make runs
/// comparable.
fn fixed_seeds(seed: u64) -> Seeds {
    let f = |n: u64| Fr::from_u128(((seed as u128) << 8) | n as u128);
    Seeds { input_salt: f(1), output_salt: f(2), weights_seed: f(3), link_seed: f(4) }
}

/// A model config planned as a chain within `budget`: skipped (before the reference run and any witness) when a
/// layer alone does not fit it, or when the largest segment's estimate exceeds this machine's memory (unless
/// `force`).
pub fn model_case(
    fx: &Fixture,
    vis: Visibility,
    budget: &Budget,
    seed: u64,
    force: bool,
    dir: &Path,
    ui: &Ui,
) -> Result<Prepared<ModelCircuit>> {
    let onnx = dir.join(format!("{}.onnx", fx.name));
    let inputs = dir.join(format!("{}_inputs.npy", fx.name));
    std::fs::write(&onnx, fx.onnx)?;
    std::fs::write(&inputs, fx.inputs)?;
    let m = model_file::load(&onnx)?;
    let skip = |why: String| {
        let description = format!("{}, hide {}", fx.title, visibility::format(&vis));
        Ok(Prepared::Skip(ConfigReport { config: fx.name.into(), description, skipped: Some(why), ..ConfigReport::default() }))
    };
    let plan = match plan_keys(&m.model, vis, budget) {
        Ok(x) => x,
        Err(e) => return skip(format!("cannot cut into segments within the budget: {e:#}")),
    };
    let (chain, key_of, distinct) = (&plan.chain, &plan.key_of, &plan.keys);
    let rows = chain.iter().map(|p| p.stats.rows).sum::<usize>();
    let max = |f: fn(&zkinfer_circuits::segments::Planned) -> u64| chain.iter().map(f).max().unwrap_or(0);
    let mut report = ConfigReport {
        config: fx.name.into(),
        description: format!(
            "{}, hide {}, {rows} rows in {} segment(s)",
            fx.title,
            visibility::format(&vis),
            chain.len()
        ),
        k: distinct.iter().map(|(s, _)| s.k).max(),
        segments: chain.len(),
        distinct_keys: distinct.len(),
        segment_k: chain.iter().map(|p| p.shape.k).collect(),
        rows: Some(rows),
        advice_columns: chain.iter().map(|p| p.stats.advice_columns).max().unwrap_or(0),
        fixed_columns: chain.iter().map(|p| p.stats.fixed_columns).max().unwrap_or(0),
        lookups: chain.iter().map(|p| p.stats.lookups).max().unwrap_or(0),
        est_prove_bytes: max(|p| p.stats.prove_memory),
        est_setup_bytes: max(|p| p.stats.setup_memory),
        ..ConfigReport::default()
    };
    // Checked before the reference run and the witnesses, which are heavy for the big models.
    if let Some(why) = memory_skip(&report, force) {
        report.skipped = Some(why);
        return Ok(Prepared::Skip(report));
    }
    let inp = input::load(&inputs, &m.model, Some(0), ui)?;
    // The one native run: every tensor's values; each segment is proved from its slice.
    let model: &Arc<_> = &plan.model;
    let values = zkinfer_import::reference::run_all(model, &inp.values)?;
    let seeds = fixed_seeds(seed);
    let mut keys = Vec::with_capacity(distinct.len());
    for (n, (shape, _)) in distinct.iter().enumerate() {
        let first = key_of.iter().position(|&k| k == n).expect("every key has a segment");
        let keygen_circuit = ModelCircuit::for_keygen(model.clone(), chain[first].segment.clone(), vis, shape.clone())?;
        let mut segments = Vec::new();
        for (index, p) in chain.iter().enumerate().filter(|(i, _)| key_of[*i] == n) {
            let seg = p.segment.clone();
            let entering = seg.inputs.iter().map(|&t| values[t].clone()).collect();
            let mut circuit = ModelCircuit::segment(model.clone(), seg.clone(), entering, vis, shape.clone())?;
            circuit.salts = seeds.salts(model, index, &seg);
            let (instances, _) = circuit.instances_and_outputs()?;
            segments.push(SegmentCase { index, circuit, instances });
        }
        keys.push(KeyCase { k: shape.k, keygen_circuit, segments });
    }
    Ok(Prepared::Run(Case { report, keys }))
}

pub fn synthetic_case(k: u32, seed: u64, force: bool) -> Prepared<DotProductCircuit> {
    // The longest dot product that still fits 2^k rows (min_k is monotone in the length).
    let len = (1usize << k) - 11;
    debug_assert_eq!(DotProductCircuit::min_k(len), k);
    let circuit = DotProductCircuit::random(len, &mut ChaCha20Rng::seed_from_u64(seed ^ k as u64));
    let mut cs = ConstraintSystem::default();
    let _ = DotProductCircuit::configure(&mut cs);
    // Rows: the constant accumulator and one per product.
    let mut report = ConfigReport::new(
        &format!("synthetic-{k}"),
        &format!("byte dot product of {len} pairs with a range lookup"),
        k,
        len + 1,
        &cs,
    );
    if let Some(why) = memory_skip(&report, force) {
        report.skipped = Some(why);
        return Prepared::Skip(report);
    }
    let segment = SegmentCase { index: 0, instances: vec![circuit.output()], circuit: circuit.clone() };
    Prepared::Run(Case { report, keys: vec![KeyCase { k, keygen_circuit: circuit.without_witnesses(), segments: vec![segment] }] })
}

/// Why a config must be skipped on this machine (its, or its largest segment's, memory estimate does not fit),
/// unless `force`.
fn memory_skip(r: &ConfigReport, force: bool) -> Option<String> {
    let have = model_file::machine_memory()?;
    (r.est_prove_bytes.max(r.est_setup_bytes) > have && !force).then(|| {
        format!(
            "estimated peak memory {:.1} GiB (prove; setup {:.1} GiB) exceeds this machine's {:.1} GiB",
            gib(r.est_prove_bytes),
            gib(r.est_setup_bytes),
            gib(have)
        )
    })
}
