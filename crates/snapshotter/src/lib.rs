//! rbuild-snapshotter (work in progress).
