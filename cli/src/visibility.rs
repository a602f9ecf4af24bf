//! `--hide weights,input,output` (any subset, or `none`) ↔ [`Visibility`].

use anyhow::{bail, Result};
use zkinfer_circuits::Visibility;

pub fn parse(s: &str) -> Result<Visibility> {
    let mut v = Visibility::default();
    for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        match part.to_ascii_lowercase().as_str() {
            "weights" => v.hide_weights = true,
            "input" => v.hide_input = true,
            "output" => v.hide_output = true,
            "none" => {}
            other => bail!("--hide: unknown part `{other}` (expected a comma-separated list of weights, input, output, or none)"),
        }
    }
    Ok(v)
}

pub fn format(v: &Visibility) -> String {
    let parts: Vec<&str> = [(v.hide_weights, "weights"), (v.hide_input, "input"), (v.hide_output, "output")]
        .into_iter()
        .filter_map(|(on, name)| on.then_some(name))
        .collect();
    if parts.is_empty() {
        "none".into()
    } else {
        parts.join(",")
    }
}
