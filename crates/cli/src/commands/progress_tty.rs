//! The terminal progress display: one live line per running step (stage, step text, the last
//! line of its output, elapsed time) drawn with indicatif; a finished step leaves its summary
//! line (✔ or CACHED, with its time). Every byte of every step's output is kept, so a failed
//! step's complete log can be printed when the build ends.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use rbuild_builder::build::{BuildEvent, StepId};

/// A step on screen and its full output.
struct StepView {
    bar: ProgressBar,
    text: String,
    log: Vec<u8>,
    done: bool,
}

/// The live display; shared by the build's threads through the event callback.
pub struct TtyDisplay {
    multi: MultiProgress,
    steps: Mutex<HashMap<(String, usize), StepView>>,
    /// Lines about the whole build (image written, outputs exported), printed under the
    /// steps' summary lines when the display ends rather than above the live area.
    closing: Mutex<Vec<String>>,
}

const RUNNING: &str = "{spinner:.cyan} [{prefix}] {wide_msg} {elapsed:>4}";
const DONE: &str = "{prefix:.dim} {wide_msg} {elapsed:>4}";

fn style(template: &str) -> ProgressStyle {
    // The templates are constants: a parse failure would be a bug here, and the default
    // style is a readable fallback rather than a panic.
    ProgressStyle::with_template(template)
        .unwrap_or_else(|_| ProgressStyle::default_spinner())
        .tick_chars("⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏ ")
}

/// The last non-empty line of a step's output, for the live line. Carriage returns (a
/// download's own progress bar) end a line too, and control characters are dropped so the
/// output cannot move the cursor under the display.
fn tail(log: &[u8]) -> String {
    // Only the end matters; a bounded window keeps this cheap for long logs.
    let window = &log[log.len().saturating_sub(4096)..];
    let text = String::from_utf8_lossy(window);
    text.split(['\n', '\r'])
        .rev()
        .map(|line| {
            line.chars()
                .filter(|c| !c.is_control() || *c == '\t')
                .collect::<String>()
        })
        .map(|line| line.trim().to_string())
        .find(|l| !l.is_empty())
        .unwrap_or_default()
}

impl TtyDisplay {
    pub fn new() -> TtyDisplay {
        TtyDisplay {
            multi: MultiProgress::with_draw_target(ProgressDrawTarget::stderr()),
            steps: Mutex::new(HashMap::new()),
            closing: Mutex::new(Vec::new()),
        }
    }

    /// A line above the live area (kept on screen).
    pub fn println(&self, text: &str) {
        let _ = self.multi.println(text);
    }

    /// A line printed after the steps when the display ends.
    pub fn closing_line(&self, text: &str) {
        let mut closing = self.closing.lock().unwrap_or_else(|p| p.into_inner());
        closing.push(text.to_string());
    }

    pub fn event(&self, event: &BuildEvent) {
        let mut steps = self.steps.lock().unwrap_or_else(|p| p.into_inner());
        match event {
            BuildEvent::ResolvingImage { .. } => {}
            BuildEvent::PullingImage { reference } => {
                drop(steps);
                self.println(&format!("pulling {reference}"));
            }
            BuildEvent::StepStarted { step } => {
                let bar = self.multi.add(ProgressBar::new_spinner());
                bar.set_style(style(RUNNING));
                bar.set_prefix(format!("{} {}/{}", step.stage, step.index, step.total));
                bar.set_message(step.text.clone());
                bar.enable_steady_tick(Duration::from_millis(120));
                steps.insert(
                    key(step),
                    StepView {
                        bar,
                        text: step.text.clone(),
                        log: Vec::new(),
                        done: false,
                    },
                );
            }
            BuildEvent::StepCached { step } => {
                if let Some(view) = steps.get_mut(&key(step)) {
                    finish(view, "CACHED");
                }
            }
            BuildEvent::StepMissed { .. } => {}
            BuildEvent::StepOutput { step, data, .. } => {
                if let Some(view) = steps.get_mut(&key(step)) {
                    view.log.extend_from_slice(data);
                    let last = tail(&view.log);
                    view.bar.set_message(format!("{}  ▸ {last}", view.text));
                }
            }
            BuildEvent::StepFinished { step, .. } => {
                if let Some(view) = steps.get_mut(&key(step)) {
                    finish(view, "✔");
                }
            }
            BuildEvent::ImageWritten { id, tags, .. } => {
                drop(steps);
                let names = if tags.is_empty() {
                    String::new()
                } else {
                    format!(" naming {}", tags.join(", "))
                };
                self.closing_line(&format!("writing image {id}{names} done"));
            }
        }
    }

    /// Ends the display. After a failure, each step still running when the build stopped
    /// is marked failed and its complete output printed (the live line showed only a tail).
    pub fn finish(&self, failed: bool) {
        let mut steps = self.steps.lock().unwrap_or_else(|p| p.into_inner());
        let mut unfinished: Vec<&mut StepView> = steps.values_mut().filter(|v| !v.done).collect();
        unfinished.sort_by(|a, b| a.text.cmp(&b.text));
        for view in unfinished {
            view.done = true;
            view.bar.set_style(style(DONE));
            if failed {
                view.bar
                    .abandon_with_message(format!("ERROR {}", view.text));
                let log = String::from_utf8_lossy(&view.log);
                if !log.is_empty() {
                    let _ = self.multi.println(format!(
                        "------ output of {} ------\n{}------",
                        view.text,
                        if log.ends_with('\n') {
                            log.into_owned()
                        } else {
                            format!("{log}\n")
                        }
                    ));
                }
            } else {
                view.bar.finish_with_message(view.text.clone());
            }
        }
        drop(steps);
        let closing = std::mem::take(&mut *self.closing.lock().unwrap_or_else(|p| p.into_inner()));
        for line in closing {
            eprintln!("{line}");
        }
    }
}

fn key(step: &StepId) -> (String, usize) {
    (step.stage.clone(), step.index)
}

/// Replaces a step's live line with its summary line.
fn finish(view: &mut StepView, mark: &str) {
    if view.done {
        return;
    }
    view.done = true;
    view.bar.set_style(style(DONE));
    view.bar
        .finish_with_message(format!("{mark} {}", view.text));
}

#[cfg(test)]
mod tests {
    use super::tail;

    #[test]
    fn tail_is_the_last_non_empty_line() {
        assert_eq!(tail(b"one\ntwo\n\n"), "two");
        assert_eq!(tail(b"partial"), "partial");
        assert_eq!(tail(b""), "");
        assert_eq!(tail(b"  spaced  \n"), "spaced");
        assert_eq!(tail(b"10%\r50%\r100%\r\n"), "100%");
        assert_eq!(tail(b"\x1b[2Kred\x07\n"), "[2Kred");
    }
}
