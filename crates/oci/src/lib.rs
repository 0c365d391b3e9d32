//! rbuild-oci (work in progress).
