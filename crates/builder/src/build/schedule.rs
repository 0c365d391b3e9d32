//! Running stages at the same time: a stage starts as soon as every stage it needs (its
//! base, `COPY --from`, `RUN --mount from=`) has finished; at most `--jobs` of them do the
//! builder's own work at once (a stage waiting for its RUN process does not count, see
//! [`JobSlots`]). Stages the target does not need are not in the graph, so they never run.
//! The first failure stops new stages from starting; running ones finish, and that first
//! error is returned.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Condvar, Mutex};

use rbuild_parser::plan::{BaseRef, DependencySource, Stage, StageGraph};

use super::error::BuildError;
use super::job_slots::JobSlots;
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
/// finished so far that the stage needs. Each ready stage gets its own thread, which holds a
/// job slot (see [`JobSlots`]) while it works.
pub(crate) fn run_stages<F>(
    graph: &StageGraph,
    slots: &JobSlots,
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
    let (shared, wake, run_stage) = (&state, &wake, &run_stage);
    std::thread::scope(|scope| {
        let mut st = shared.lock().unwrap_or_else(|p| p.into_inner());
        loop {
            if st.error.is_none() {
                let ready: Vec<&Stage> = graph
                    .stages
                    .iter()
                    .filter(|s| {
                        !st.started.contains(&s.index)
                            && deps[&s.index]
                                .iter()
                                .all(|d| st.done.contains_key(d) || !known.contains(d))
                    })
                    .collect();
                for stage in ready {
                    st.started.insert(stage.index);
                    st.running += 1;
                    let needed: BTreeMap<usize, StageResult> = st
                        .done
                        .iter()
                        .filter(|(i, _)| deps[&stage.index].contains(i))
                        .map(|(i, r)| (*i, r.clone()))
                        .collect();
                    scope.spawn(move || {
                        let result = {
                            let _slot = slots.hold();
                            run_stage(stage, &needed)
                        };
                        let mut st = shared.lock().unwrap_or_else(|p| p.into_inner());
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
                    });
                }
            }
            if st.running == 0 {
                if st.error.is_none() && st.started.len() < graph.stages.len() {
                    // Nothing runs and nothing is ready: a dependency cannot be met.
                    st.error = Some(BuildError::Request(
                        "stage dependencies cannot be satisfied".into(),
                    ));
                }
                break;
            }
            st = wake.wait(st).unwrap_or_else(|p| p.into_inner());
        }
    });
    let state = state.into_inner().unwrap_or_else(|p| p.into_inner());
    match state.error {
        Some(e) => Err(e),
        None => Ok(state.done),
    }
}
