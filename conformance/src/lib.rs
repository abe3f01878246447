//! Conformance machinery for kubewire (in progress).
