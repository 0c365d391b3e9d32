//! rbuild-parser (work in progress).
