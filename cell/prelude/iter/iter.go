//go:build golemprelude

// Package iter is compiled from source into every interpreter of package cell:
// yaegi v0.16.1's standard library tables were generated for Go 1.22 and have no
// package iter. iter.Pull and iter.Pull2 are shims (pull.go in the prelude).
package iter

// Seq is an iterator over sequences of individual values.
type Seq[V any] func(yield func(V) bool)

// Seq2 is an iterator over sequences of pairs of values.
type Seq2[K, V any] func(yield func(K, V) bool)
