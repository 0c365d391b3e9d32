//! rbuild-sandbox (work in progress).
