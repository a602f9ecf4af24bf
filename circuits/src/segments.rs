//! The chain planner: cuts a model into consecutive segments whose circuits each fit a memory budget (estimated
//! setup AND prove peak) and a largest k. A segment grows layer by layer while it fits; it is then cut where the
//! fewest int8 values are live (between inverted-residual blocks in a MobileNet), the latest such cut on a tie.
//! A model that fits one circuit is one segment — exactly today's circuit. A layer too large for any segment is
//! first split by output channels into the fewest parts that each fit (`zkinfer_import::split`); the chain is then
//! planned over the split model, so any model whose every output CHANNEL fits proves in bounded memory.

use zkinfer_import::QuantModel;

use crate::error::{CircuitError, Result};
use crate::layers;
use crate::plan::{plan, plan_segment, MAX_K};
use crate::segment::{live_elements, Segment};
use crate::shape::Shape;
use crate::stats::{stats_for_segment, CircuitStats};
use crate::visibility::Visibility;

/// What every segment's circuit must fit.
#[derive(Clone, Copy, Debug)]
pub struct Budget {
    /// Bytes of memory each of setup and proving may use (the larger estimate counts).
    pub memory: u64,
    pub max_k: u32,
    /// Cut into at least this many segments (rows balanced), even when fewer would fit.
    pub min_segments: usize,
}

impl Budget {
    pub fn memory(memory: u64) -> Budget {
        Budget { memory, max_k: MAX_K, min_segments: 1 }
    }
}

/// One segment of the chain with its planned shape and size.
#[derive(Clone, Debug)]
pub struct Planned {
    pub segment: Segment,
    pub shape: Shape,
    pub stats: CircuitStats,
}

impl Planned {
    /// The larger of the setup and prove memory estimates.
    pub fn memory(&self) -> u64 {
        self.stats.setup_memory.max(self.stats.prove_memory)
    }
}

/// Plans layers `start..end` as one segment, or says why it does not fit.
fn try_segment(model: &QuantModel, vis: &Visibility, start: usize, end: usize, budget: &Budget) -> std::result::Result<Planned, String> {
    let segment = Segment::new(model, start, end);
    let shape = match plan_segment(model, &segment, vis) {
        Ok(s) => s,
        Err(CircuitError::TooLarge { need, .. }) => return Err(format!("needs 2^{need} rows")),
        Err(e) => return Err(e.to_string()),
    };
    let stats = stats_for_segment(model, &segment, vis, shape.clone());
    let p = Planned { segment, shape, stats };
    if p.shape.k > budget.max_k {
        return Err(format!("needs k = {}, above --max-k {}", p.shape.k, budget.max_k));
    }
    if p.memory() > budget.memory {
        return Err(format!(
            "needs an estimated {:.1} GiB, above the {:.1} GiB budget",
            p.memory() as f64 / (1u64 << 30) as f64,
            budget.memory as f64 / (1u64 << 30) as f64
        ));
    }
    Ok(p)
}

/// Most parts a layer is split into.
pub const MAX_PARTS: usize = 512;

/// A model ready to chain: `model` with `splits` applied (each `(layer index, parts)`, in order), and its chain.
pub struct Plan {
    pub model: QuantModel,
    pub splits: Vec<(usize, usize)>,
    pub chain: Vec<Planned>,
}

/// Splits every layer that does not fit `budget` alone into the fewest channel parts that each do, then plans the
/// chain over the result.
pub fn plan_model(model: &QuantModel, vis: &Visibility, budget: &Budget) -> Result<Plan> {
    let mut m = model.clone();
    let mut splits = Vec::new();
    let mut i = 0;
    while i < m.layers.len() {
        let Err(why) = try_segment(&m, vis, i, i + 1, budget) else {
            i += 1;
            continue;
        };
        let channels = m.tensors[m.layers[i].output].shape.get(1).copied().unwrap_or(1);
        let mut done = None;
        for parts in 2..=channels.min(MAX_PARTS) {
            let Ok((cand, ranges)) = zkinfer_import::split::split_channels(&m, i, parts) else { break };
            if ranges.iter().all(|&(a, b)| try_segment(&cand, vis, a, b, budget).is_ok()) {
                let next = ranges.last().expect("parts").1 + 1;
                done = Some((cand, parts, next));
                break;
            }
        }
        let Some((cand, parts, next)) = done else {
            return Err(CircuitError::Unsupported {
                layer: m.layers[i].name.clone(),
                what: format!("this layer alone {why}, and so does each part of it split by output channels; raise --memory / --max-k"),
            });
        };
        m = cand;
        splits.push((i, parts));
        i = next;
    }
    let chain = plan_chain(&m, vis, budget)?;
    Ok(Plan { model: m, splits, chain })
}

/// Cuts `model` into the fewest segments that fit `budget` (at least `budget.min_segments`).
pub fn plan_chain(model: &QuantModel, vis: &Visibility, budget: &Budget) -> Result<Vec<Planned>> {
    let n = model.layers.len();
    if n == 0 {
        return Err(CircuitError::Unsupported { layer: "(model)".into(), what: "no layers".into() });
    }
    // Balance rows when more segments are asked for than memory needs: each takes at most its share of the
    // layers' rows (measured at the whole model's shape).
    let row_cap = if budget.min_segments > 1 {
        let shape = plan(model, vis)?;
        let all = layers::all(model);
        let rows: Vec<usize> = all.iter().map(|l| l.rows(&shape).max(1)).collect();
        Some((rows.iter().sum::<usize>().div_ceil(budget.min_segments), rows))
    } else {
        None
    };
    let mut out = Vec::new();
    let mut start = 0;
    while start < n {
        let mut fits: Vec<Planned> = Vec::new();
        let mut reason = String::new();
        for end in start + 1..=n {
            if let Some((cap, rows)) = &row_cap {
                if end > start + 1 && rows[start..end].iter().sum::<usize>() > *cap {
                    break;
                }
            }
            match try_segment(model, vis, start, end, budget) {
                Ok(p) => fits.push(p),
                Err(why) => {
                    reason = why;
                    break;
                }
            }
        }
        let Some(last) = fits.last() else {
            return Err(CircuitError::Unsupported {
                layer: model.layers[start].name.clone(),
                what: format!("this layer alone {reason}; raise --memory / --max-k"),
            });
        };
        if last.segment.end == n {
            out.push(fits.pop().expect("one fits"));
            break;
        }
        // Cut where the fewest values cross (latest on a tie), among the ends that fit.
        let best = (0..fits.len())
            .min_by_key(|&i| (live_elements(model, fits[i].segment.end), std::cmp::Reverse(i)))
            .expect("one fits");
        let planned = fits.swap_remove(best);
        start = planned.segment.end;
        out.push(planned);
    }
    Ok(out)
}
