//! What `zkinfer bench` measures: the bundled model configs (ONNX file + a batch of inputs, compiled into the
//! binary), the synthetic sweep of byte dot-product circuits filling 2^k rows, and turning `--config` names into
//! circuits ready to prove — or into a skip when their memory estimate does not fit this machine.

use std::path::Path;

use anyhow::{bail, Result};
use halo2_proofs::plonk::{Circuit, ConstraintSystem};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use zkinfer_testkit::DotProductCircuit;
use zkinfer_backend::Fr;
use zkinfer_circuits::stats::stats_for_shape;
use zkinfer_circuits::{plan, ModelCircuit, Visibility};

use super::report::ConfigReport;
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

const FIXTURES: [Fixture; 4] = [
    fixture!("digits", "digits CNN, 8x8 gray, 10 classes", "digits_int8", "digits_test_x.npy"),
    fixture!("mobilenet-0.35-96", "MobileNet v2 0.35, 96x96 RGB", "mobilenet_v2_0.35_96_int8", "mobilenet_v2_0.35_96_inputs.npy"),
    fixture!("mobilenet-0.5-224", "MobileNet v2 0.5, 224x224 RGB", "mobilenet_v2_0.5_224_int8", "mobilenet_v2_0.5_224_inputs.npy"),
    fixture!("mobilenet-0.75-192", "MobileNet v2 0.75, 192x192 RGB", "mobilenet_v2_0.75_192_int8", "mobilenet_v2_0.75_192_inputs.npy"),
];

/// The synthetic sweep: byte dot-product circuits filling 2^k rows.
const SYNTHETIC_K: std::ops::RangeInclusive<u32> = 12..=20;

/// The names `--config` accepts, for the help text and errors.
pub const CONFIG_HELP: &str = "digits, mobilenet-0.35-96, mobilenet-0.5-224, mobilenet-0.75-192, mobilenets (the \
three), synthetic (k = 12..20), synthetic-K (one k), all";

/// One config to run, as named on the command line.
pub enum Planned {
    Model(&'static Fixture),
    Synthetic(u32),
}

/// One circuit ready to benchmark.
pub struct Case<C> {
    /// Filled in as the case runs.
    pub report: ConfigReport,
    pub keygen_circuit: C,
    pub circuit: C,
    pub instances: Vec<Fr>,
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
            "mobilenets" => out.extend(FIXTURES[1..].iter().map(Planned::Model)),
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

pub fn model_case(
    fx: &Fixture,
    vis: Visibility,
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
    let shape = plan::plan(&m.model, &vis)?;
    let stats = stats_for_shape(&m.model, &vis, shape.clone());
    let mut cs = ConstraintSystem::default();
    let _ = zkinfer_circuits::model::configure(&mut cs, shape.clone());
    let description = format!("{}, hide {}, {} rows used", fx.title, visibility::format(&vis), stats.rows);
    // Checked before the reference run and the witness, which are heavy for the big models.
    let mut report = ConfigReport::new(fx.name, &description, stats.k, &cs);
    if let Some(why) = memory_skip(&report, force) {
        report.skipped = Some(why);
        return Ok(Prepared::Skip(report));
    }
    let inp = input::load(&inputs, &m.model, Some(0), ui)?;
    let zero = vec![0i32; inp.values.len()];
    let keygen_circuit = ModelCircuit::with_shape(m.model.clone(), zero, vis, shape.clone())?;
    let mut circuit = ModelCircuit::with_shape(m.model.clone(), inp.values, vis, shape.clone())?;
    // Fixed salts: a benchmark needs no secrecy, and fixed values make runs comparable.
    circuit.salts.inputs[0] = Fr::from(seed.wrapping_add(1));
    circuit.salts.outputs[0] = Fr::from(seed.wrapping_add(2));
    circuit.salts.weights = Fr::from(seed.wrapping_add(3));
    let (instances, _) = circuit.instances_and_output()?;
    Ok(Prepared::Run(Case { report, keygen_circuit, circuit, instances }))
}

pub fn synthetic_case(k: u32, seed: u64, force: bool) -> Prepared<DotProductCircuit> {
    // The longest dot product that still fits 2^k rows (min_k is monotone in the length).
    let len = (1usize << k) - 11;
    debug_assert_eq!(DotProductCircuit::min_k(len), k);
    let circuit = DotProductCircuit::random(len, &mut ChaCha20Rng::seed_from_u64(seed ^ k as u64));
    let mut cs = ConstraintSystem::default();
    let _ = DotProductCircuit::configure(&mut cs);
    let mut report =
        ConfigReport::new(&format!("synthetic-{k}"), &format!("byte dot product of {len} pairs with a range lookup"), k, &cs);
    if let Some(why) = memory_skip(&report, force) {
        report.skipped = Some(why);
        return Prepared::Skip(report);
    }
    Prepared::Run(Case { report, keygen_circuit: circuit.without_witnesses(), instances: vec![circuit.output()], circuit })
}

/// Why a config must be skipped on this machine (its memory estimate does not fit), unless `force`.
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
