//! Running stages at the same time: a stage starts as soon as every stage it needs (its
//! base, `COPY --from`, `RUN --mount from=`) has finished, with at most `jobs` stages
//! running at once. Stages the target does not need are not in the graph, so they never run.
//! The first failure stops new stages from starting; running ones finish, and that first
//! error is returned.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Condvar, Mutex};

use rbuild_parser::plan::{BaseRef, DependencySource, Stage, StageGraph};

use super::error::BuildError;
use super::stage::StageResult;

/// The stages a stage must wait for.
fn needs(stage: &Stage) -> BTreeSet<usize> {
    let mut out: BTreeSet<usize> = stage
        .deps
        .iter()
        .filter_map(|d| match d.source {
            DependencySource::Stage { index } => Some(index),
            DependencySource::Image { .. } => None,
        })
        .collect();
    if let BaseRef::Stage { index } = stage.base {
        out.insert(index);
    }
    out.remove(&stage.index);
    out
}

struct State {
    done: BTreeMap<usize, StageResult>,
    started: BTreeSet<usize>,
    running: usize,
    error: Option<BuildError>,
}

/// Runs every stage of `graph` with `run_stage`, which receives the results of the stages
/// finished so far (a superset of what the stage needs).
pub(crate) fn run_stages<F>(
    graph: &StageGraph,
    jobs: usize,
    run_stage: F,
) -> Result<BTreeMap<usize, StageResult>, BuildError>
where
    F: Fn(&Stage, &BTreeMap<usize, StageResult>) -> Result<StageResult, BuildError> + Sync,
{
    let deps: BTreeMap<usize, BTreeSet<usize>> =
        graph.stages.iter().map(|s| (s.index, needs(s))).collect();
    let known: BTreeSet<usize> = graph.stages.iter().map(|s| s.index).collect();
    let state = Mutex::new(State {
        done: BTreeMap::new(),
        started: BTreeSet::new(),
        running: 0,
        error: None,
    });
    let wake = Condvar::new();
    let workers = jobs.clamp(1, graph.stages.len().max(1));
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| {
                loop {
                    // Pick a ready stage, or wait until one becomes ready, or stop.
                    let (stage, snapshot) = {
                        let mut st = state.lock().unwrap_or_else(|p| p.into_inner());
                        loop {
                            if st.error.is_some() || st.started.len() == graph.stages.len() {
                                return;
                            }
                            let ready = graph.stages.iter().find(|s| {
                                !st.started.contains(&s.index)
                                    && deps[&s.index]
                                        .iter()
                                        .all(|d| st.done.contains_key(d) || !known.contains(d))
                            });
                            if let Some(stage) = ready {
                                st.started.insert(stage.index);
                                st.running += 1;
                                let needed: BTreeMap<usize, StageResult> = st
                                    .done
                                    .iter()
                                    .filter(|(i, _)| deps[&stage.index].contains(i))
                                    .map(|(i, r)| (*i, r.clone()))
                                    .collect();
                                break (stage, needed);
                            }
                            if st.running == 0 {
                                // Nothing runs and nothing is ready: a dependency cannot be met.
                                st.error.get_or_insert_with(|| {
                                    BuildError::Request(
                                        "stage dependencies cannot be satisfied".into(),
                                    )
                                });
                                wake.notify_all();
                                return;
                            }
                            st = wake.wait(st).unwrap_or_else(|p| p.into_inner());
                        }
                    };
                    let result = run_stage(stage, &snapshot);
                    let mut st = state.lock().unwrap_or_else(|p| p.into_inner());
                    st.running -= 1;
                    match result {
                        Ok(r) => {
                            st.done.insert(stage.index, r);
                        }
                        Err(e) => {
                            st.error.get_or_insert(e);
                        }
                    }
                    wake.notify_all();
                }
            });
        }
    });
    let state = state.into_inner().unwrap_or_else(|p| p.into_inner());
    match state.error {
        Some(e) => Err(e),
        None => Ok(state.done),
    }
}
