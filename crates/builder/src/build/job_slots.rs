//! `--jobs`: how many stages may do the builder's own work (hashing contexts, copying files,
//! committing layers) at the same time — the core count by default.
//!
//! A stage gives its slot back while it only waits for its RUN process: a sleeping or
//! network-bound command costs the builder nothing, the kernel schedules the processes
//! themselves, and BuildKit likewise starts every ready step at once. So three independent
//! `RUN sleep 1` stages take one second on two cores, not two, while CPU-heavy builder work
//! stays bounded by the slots.

use std::cell::Cell;
use std::sync::{Condvar, Mutex};

thread_local! {
    /// Whether this thread holds a slot (of whichever `JobSlots`; a build thread only ever
    /// works for one).
    static HOLDING: Cell<bool> = const { Cell::new(false) };
}

/// A counting semaphore of job slots.
pub(crate) struct JobSlots {
    free: Mutex<usize>,
    freed: Condvar,
}

/// A held slot, given back on drop.
pub(crate) struct SlotGuard<'a> {
    slots: &'a JobSlots,
}

impl JobSlots {
    pub fn new(slots: usize) -> JobSlots {
        JobSlots {
            free: Mutex::new(slots.max(1)),
            freed: Condvar::new(),
        }
    }

    fn acquire(&self) {
        let mut free = self.free.lock().unwrap_or_else(|p| p.into_inner());
        while *free == 0 {
            free = self.freed.wait(free).unwrap_or_else(|p| p.into_inner());
        }
        *free -= 1;
        HOLDING.with(|h| h.set(true));
    }

    fn release(&self) {
        HOLDING.with(|h| h.set(false));
        let mut free = self.free.lock().unwrap_or_else(|p| p.into_inner());
        *free += 1;
        self.freed.notify_one();
    }

    /// Waits for a free slot and holds it until the guard is dropped.
    pub fn hold(&self) -> SlotGuard<'_> {
        self.acquire();
        SlotGuard { slots: self }
    }

    /// Runs `wait` with this thread's slot given back (when it holds one), and takes a
    /// slot again afterwards: for waiting on a sandboxed process.
    pub fn released_while<T>(&self, wait: impl FnOnce() -> T) -> T {
        if !HOLDING.with(Cell::get) {
            return wait();
        }
        self.release();
        // Re-acquire even if `wait` panics, so the guard's release stays balanced.
        struct Reacquire<'a>(&'a JobSlots);
        impl Drop for Reacquire<'_> {
            fn drop(&mut self) {
                self.0.acquire();
            }
        }
        let _again = Reacquire(self);
        wait()
    }
}

impl Drop for SlotGuard<'_> {
    fn drop(&mut self) {
        self.slots.release();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    /// Runs `threads` threads that each hold a slot, do `work` (recording how many hold one
    /// at once) and, when `waiting`, also wait with the slot released.
    fn peak(slots: usize, threads: usize, waiting: bool) -> (usize, usize) {
        let jobs = JobSlots::new(slots);
        let working = AtomicUsize::new(0);
        let peak_working = AtomicUsize::new(0);
        let sleeping = AtomicUsize::new(0);
        let peak_sleeping = AtomicUsize::new(0);
        std::thread::scope(|scope| {
            for _ in 0..threads {
                scope.spawn(|| {
                    let _slot = jobs.hold();
                    let now = working.fetch_add(1, Ordering::SeqCst) + 1;
                    peak_working.fetch_max(now, Ordering::SeqCst);
                    std::thread::sleep(Duration::from_millis(20));
                    working.fetch_sub(1, Ordering::SeqCst);
                    if waiting {
                        jobs.released_while(|| {
                            let now = sleeping.fetch_add(1, Ordering::SeqCst) + 1;
                            peak_sleeping.fetch_max(now, Ordering::SeqCst);
                            std::thread::sleep(Duration::from_millis(200));
                            sleeping.fetch_sub(1, Ordering::SeqCst);
                        });
                    }
                });
            }
        });
        (
            peak_working.load(Ordering::SeqCst),
            peak_sleeping.load(Ordering::SeqCst),
        )
    }

    #[test]
    fn work_is_bounded_by_the_slots() {
        let (working, _) = peak(2, 6, false);
        assert!(
            working <= 2,
            "{working} threads worked at once with 2 slots"
        );
    }

    #[test]
    fn waiting_gives_the_slot_back() {
        let (working, sleeping) = peak(1, 4, true);
        assert_eq!(working, 1, "one slot: one worker at a time");
        assert!(
            sleeping >= 2,
            "waiters do not hold slots, so several wait at once (peak {sleeping})"
        );
    }

    #[test]
    fn released_while_without_a_slot_just_runs() {
        let jobs = JobSlots::new(1);
        let _held = jobs.hold();
        // Another thread without a slot is not blocked by the held one.
        std::thread::scope(|scope| {
            scope
                .spawn(|| assert_eq!(jobs.released_while(|| 5), 5))
                .join()
                .unwrap();
        });
    }
}
