//! Build progress for people and tools: a live terminal display (see [`super::progress_tty`]),
//! plain numbered lines (BuildKit's `--progress=plain` shape, with the reason for every cache
//! miss), raw JSON events, or nothing (`-q`).

use std::collections::HashMap;
use std::io::Write;
use std::sync::{Arc, Mutex};

use rbuild_builder::build::{BuildEvent, StepId};

use super::progress_tty::TtyDisplay;

/// How progress is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProgressMode {
    /// Live lines redrawn in a terminal.
    Tty,
    Plain,
    RawJson,
    Quiet,
}

/// What matters about where progress goes (standard error), for `--progress=auto`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Terminal {
    /// Standard error is a terminal.
    pub is_tty: bool,
    /// `TERM=dumb`: a terminal that cannot move the cursor.
    pub dumb: bool,
    /// `CI` is set: logs are kept, so every line should stay.
    pub ci: bool,
}

impl Terminal {
    /// Standard error of this process and its environment.
    pub fn detect() -> Terminal {
        use std::io::IsTerminal;
        Terminal {
            is_tty: std::io::stderr().is_terminal(),
            dumb: std::env::var("TERM").is_ok_and(|t| t == "dumb"),
            ci: std::env::var_os("CI").is_some_and(|v| !v.is_empty()),
        }
    }

    fn can_redraw(self) -> bool {
        self.is_tty && !self.dumb
    }
}

impl ProgressMode {
    /// `--progress` and `-q`. `auto` draws live lines in a terminal and plain lines in CI, in
    /// a pipe or a file; `tty` asks for live lines, and falls back to plain lines where they
    /// cannot be drawn (not a terminal, or `TERM=dumb`) so no output is lost.
    pub fn choose(flag: &str, quiet: bool, terminal: Terminal) -> anyhow::Result<ProgressMode> {
        if quiet {
            return Ok(ProgressMode::Quiet);
        }
        match flag {
            "auto" if terminal.can_redraw() && !terminal.ci => Ok(ProgressMode::Tty),
            "tty" if terminal.can_redraw() => Ok(ProgressMode::Tty),
            "auto" | "tty" | "plain" => Ok(ProgressMode::Plain),
            "rawjson" => Ok(ProgressMode::RawJson),
            other => anyhow::bail!("--progress {other}: expected auto, tty, plain or rawjson"),
        }
    }
}

#[derive(Default)]
struct State {
    numbers: HashMap<(String, usize), usize>,
    next: usize,
    /// Output not yet ended by a newline, per step number.
    partial: HashMap<usize, Vec<u8>>,
    started: Option<std::time::Instant>,
}

/// The progress printer; cheap to share between build threads.
#[derive(Clone)]
pub struct Progress {
    mode: ProgressMode,
    state: Arc<Mutex<State>>,
    tty: Option<Arc<TtyDisplay>>,
}

impl Progress {
    pub fn new(mode: ProgressMode) -> Progress {
        let state = State {
            next: 1,
            started: Some(std::time::Instant::now()),
            ..State::default()
        };
        Progress {
            mode,
            state: Arc::new(Mutex::new(state)),
            tty: (mode == ProgressMode::Tty).then(|| Arc::new(TtyDisplay::new())),
        }
    }

    /// A callback for [`rbuild_builder::build::BuildOptions::on_event`].
    pub fn sink(&self) -> impl Fn(&BuildEvent) + Send + Sync + 'static {
        let me = self.clone();
        move |event| me.event(event)
    }

    pub fn note(&self, text: &str) {
        match (&self.tty, self.mode) {
            (Some(tty), _) => tty.closing_line(text),
            (None, ProgressMode::Plain) => eprintln!("#0 {text}"),
            (None, _) => {}
        }
    }

    /// The build failed: ends the display, printing the complete output of the steps that
    /// were running (the terminal display showed only their last line).
    pub fn fail(&self) {
        if let Some(tty) = &self.tty {
            tty.finish(true);
        }
        self.finish();
    }

    pub fn finish(&self) {
        if let Some(tty) = &self.tty {
            tty.finish(false);
        }
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let partial: Vec<(usize, Vec<u8>)> = state.partial.drain().collect();
        let elapsed = state
            .started
            .map(|s| s.elapsed().as_secs_f64())
            .unwrap_or(0.0);
        drop(state);
        if self.mode == ProgressMode::Plain {
            for (n, rest) in partial {
                if !rest.is_empty() {
                    eprintln!("#{n} {elapsed:.3} {}", String::from_utf8_lossy(&rest));
                }
            }
        }
    }

    fn number(&self, state: &mut State, step: &StepId) -> usize {
        let key = (step.stage.clone(), step.index);
        if let Some(n) = state.numbers.get(&key) {
            return *n;
        }
        let n = state.next;
        state.next += 1;
        state.numbers.insert(key, n);
        n
    }

    fn event(&self, event: &BuildEvent) {
        match self.mode {
            ProgressMode::Quiet => {}
            ProgressMode::RawJson => println!("{}", raw_json(event)),
            ProgressMode::Plain => self.plain(event),
            ProgressMode::Tty => {
                if let Some(tty) = &self.tty {
                    tty.event(event);
                }
            }
        }
    }

    fn plain(&self, event: &BuildEvent) {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let elapsed = state
            .started
            .map(|s| s.elapsed().as_secs_f64())
            .unwrap_or(0.0);
        let stderr = std::io::stderr();
        let mut err = stderr.lock();
        let _ = match event {
            BuildEvent::ResolvingImage { reference } => {
                writeln!(err, "#0 resolve image {reference}")
            }
            BuildEvent::PullingImage { reference } => writeln!(err, "#0 pull {reference}"),
            BuildEvent::StepStarted { step } => {
                let n = self.number(&mut state, step);
                writeln!(
                    err,
                    "#{n} [{} {}/{}] {}",
                    step.stage, step.index, step.total, step.text
                )
            }
            BuildEvent::StepCached { step } => {
                let n = self.number(&mut state, step);
                writeln!(err, "#{n} CACHED")
            }
            BuildEvent::StepMissed { step, reasons } => {
                let n = self.number(&mut state, step);
                writeln!(err, "#{n} cache miss: {}", reasons.join("; "))
            }
            BuildEvent::StepOutput { step, data, .. } => {
                let n = self.number(&mut state, step);
                let buffer = state.partial.entry(n).or_default();
                buffer.extend_from_slice(data);
                let mut out = Ok(());
                while let Some(pos) = buffer.iter().position(|&b| b == b'\n') {
                    let line: Vec<u8> = buffer.drain(..=pos).collect();
                    out = writeln!(
                        err,
                        "#{n} {elapsed:.3} {}",
                        String::from_utf8_lossy(&line[..line.len() - 1])
                    );
                }
                out
            }
            BuildEvent::StepFinished { step, elapsed } => {
                let n = self.number(&mut state, step);
                if let Some(rest) = state.partial.remove(&n)
                    && !rest.is_empty()
                {
                    let _ = writeln!(
                        err,
                        "#{n} {:.3} {}",
                        elapsed.as_secs_f64(),
                        String::from_utf8_lossy(&rest)
                    );
                }
                writeln!(err, "#{n} DONE {:.1}s", elapsed.as_secs_f64())
            }
            BuildEvent::ImageWritten { id, manifest, tags } => {
                let names = if tags.is_empty() {
                    String::new()
                } else {
                    format!(" naming {}", tags.join(", "))
                };
                writeln!(
                    err,
                    "#{} writing image {id} (manifest {manifest}){names} done",
                    state.next
                )
            }
        };
    }
}

/// One JSON object per event, for tools.
fn raw_json(event: &BuildEvent) -> serde_json::Value {
    use serde_json::json;
    let step_json = |s: &StepId| json!({"stage": s.stage, "index": s.index, "total": s.total, "text": s.text, "line": s.line});
    match event {
        BuildEvent::ResolvingImage { reference } => {
            json!({"event": "resolving_image", "reference": reference})
        }
        BuildEvent::PullingImage { reference } => {
            json!({"event": "pulling_image", "reference": reference})
        }
        BuildEvent::StepStarted { step } => {
            json!({"event": "step_started", "step": step_json(step)})
        }
        BuildEvent::StepCached { step } => json!({"event": "step_cached", "step": step_json(step)}),
        BuildEvent::StepMissed { step, reasons } => {
            json!({"event": "step_missed", "step": step_json(step), "reasons": reasons})
        }
        BuildEvent::StepOutput { step, stderr, data } => json!({
            "event": "step_output", "step": step_json(step),
            "stream": if *stderr { "stderr" } else { "stdout" },
            "data": String::from_utf8_lossy(data),
        }),
        BuildEvent::StepFinished { step, elapsed } => {
            json!({"event": "step_finished", "step": step_json(step), "seconds": elapsed.as_secs_f64()})
        }
        BuildEvent::ImageWritten { id, manifest, tags } => {
            json!({"event": "image_written", "id": id, "manifest": manifest, "tags": tags})
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{ProgressMode, Terminal};

    const TTY: Terminal = Terminal {
        is_tty: true,
        dumb: false,
        ci: false,
    };
    const PIPE: Terminal = Terminal {
        is_tty: false,
        dumb: false,
        ci: false,
    };

    fn choose(flag: &str, quiet: bool, terminal: Terminal) -> ProgressMode {
        ProgressMode::choose(flag, quiet, terminal).unwrap()
    }

    #[test]
    fn auto_draws_live_lines_only_in_a_capable_terminal_outside_ci() {
        assert_eq!(choose("auto", false, TTY), ProgressMode::Tty);
        assert_eq!(choose("auto", false, PIPE), ProgressMode::Plain);
        let dumb = Terminal { dumb: true, ..TTY };
        assert_eq!(choose("auto", false, dumb), ProgressMode::Plain);
        let ci = Terminal { ci: true, ..TTY };
        assert_eq!(choose("auto", false, ci), ProgressMode::Plain);
    }

    #[test]
    fn tty_is_honoured_where_it_can_be_drawn_even_in_ci() {
        assert_eq!(choose("tty", false, TTY), ProgressMode::Tty);
        assert_eq!(
            choose("tty", false, Terminal { ci: true, ..TTY }),
            ProgressMode::Tty
        );
        assert_eq!(choose("tty", false, PIPE), ProgressMode::Plain);
        assert_eq!(
            choose("tty", false, Terminal { dumb: true, ..TTY }),
            ProgressMode::Plain
        );
    }

    #[test]
    fn explicit_modes_and_quiet_do_not_depend_on_the_terminal() {
        for terminal in [TTY, PIPE] {
            assert_eq!(choose("plain", false, terminal), ProgressMode::Plain);
            assert_eq!(choose("rawjson", false, terminal), ProgressMode::RawJson);
            assert_eq!(choose("auto", true, terminal), ProgressMode::Quiet);
            assert_eq!(choose("tty", true, terminal), ProgressMode::Quiet);
        }
    }

    #[test]
    fn unknown_modes_are_refused_with_the_choices() {
        let err = ProgressMode::choose("fancy", false, TTY)
            .unwrap_err()
            .to_string();
        assert!(err.contains("--progress fancy"), "{err}");
        assert!(err.contains("auto, tty, plain or rawjson"), "{err}");
    }
}
