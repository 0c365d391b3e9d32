//! rbuild-builder (work in progress).
