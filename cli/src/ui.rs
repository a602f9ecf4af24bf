//! What the user sees while a command runs: stage lines or progress bars on stderr (hidden by `--quiet` and
//! `--json`), and the final result on stdout (text, or one JSON object with `--json`).

use std::io::IsTerminal;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};

#[derive(Clone, Copy, Debug)]
pub struct Ui {
    pub quiet: bool,
    pub json: bool,
}

/// One running stage: a spinner (or a bar with `steps`) on a terminal, a plain line otherwise.
pub struct Stage {
    bar: Option<ProgressBar>,
    name: String,
    start: Instant,
    last: std::cell::Cell<Instant>,
    show: bool,
}

impl Ui {
    /// Whether human-readable progress goes to stderr.
    fn chatty(&self) -> bool {
        !self.quiet && !self.json
    }

    /// An informational line on stderr.
    pub fn say(&self, msg: impl AsRef<str>) {
        if self.chatty() {
            eprintln!("{}", msg.as_ref());
        }
    }

    /// A warning line on stderr: shown even with `--json` (only `--quiet` hides it).
    pub fn warn(&self, msg: impl AsRef<str>) {
        if !self.quiet {
            eprintln!("warning: {}", msg.as_ref());
        }
    }

    /// Starts a stage; `steps` > 0 draws a bar of that many steps (advance with [`Stage::step`]).
    pub fn stage(&self, name: &str, steps: u64) -> Stage {
        let show = self.chatty();
        let bar = (show && std::io::stderr().is_terminal()).then(|| {
            let b = if steps > 0 {
                let b = ProgressBar::new(steps);
                b.set_style(
                    ProgressStyle::with_template("{spinner} {prefix} [{bar:24}] {pos}/{len} {msg} ({elapsed})")
                        .expect("static template")
                        .progress_chars("=> "),
                );
                b
            } else {
                let b = ProgressBar::new_spinner();
                b.set_style(ProgressStyle::with_template("{spinner} {prefix} {msg} ({elapsed})").expect("static template"));
                b
            };
            b.set_prefix(name.to_string());
            b.enable_steady_tick(Duration::from_millis(120));
            b
        });
        if show && bar.is_none() {
            eprintln!("{name} ...");
        }
        Stage { bar, name: name.to_string(), start: Instant::now(), last: std::cell::Cell::new(Instant::now()), show }
    }
}

impl Stage {
    /// Marks one step done; `next` names what runs now.
    pub fn step(&self, done: &str, next: &str) {
        match &self.bar {
            Some(b) => {
                b.inc(1);
                b.set_message(next.to_string());
            }
            None if self.show => eprintln!("  {done}: {:.2} s", self.last.get().elapsed().as_secs_f64()),
            None => {}
        }
        self.last.set(Instant::now());
    }

    pub fn message(&self, msg: &str) {
        if let Some(b) = &self.bar {
            b.set_message(msg.to_string());
        }
    }

    /// Ends the stage; returns its wall time in seconds.
    pub fn finish(self) -> f64 {
        let secs = self.start.elapsed().as_secs_f64();
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
        if self.show {
            eprintln!("{}: {secs:.2} s", self.name);
        }
        secs
    }
}

impl Drop for Stage {
    fn drop(&mut self) {
        if let Some(b) = &self.bar {
            if !b.is_finished() {
                b.abandon();
            }
        }
    }
}
