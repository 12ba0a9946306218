//go:build golemprelude

// Package golemrt declares the compiled functions that rewritten cells and the
// prelude call as _golemrt.F. Package cell exports the real ones to each
// interpreter under this import path (runtimeExports in interp.go): some are bound
// to the session that runs the cell, so no package-level Go function could be
// them. The declarations here exist for vet and for the reader; their bodies are
// never run, and TestRuntimeDeclared checks that they match the exports.
package golemrt

import "github.com/golem-lm/golem/display"

const declared = "golemrt: a declaration for vet; package cell exports the function that runs"

// Cell is the id of the cell running now (0 between cells).
func Cell() int64 { panic(declared) }

// GoPanic reports the panic v of a goroutine started by the go statement at where
// while cell was running (goroutine.go).
func GoPanic(cell int64, v any, where string) { panic(declared) }

// MakeSize returns n, the length or capacity of a make([]T, n), after checking
// that n elements of T (elem is a (*T)(nil)) fit in the memory available
// (memory.go).
func MakeSize(n int64, elem any) int64 { panic(declared) }

// Clear is the builtin clear of a map or a slice (clear.go).
func Clear(x any) { panic(declared) }

// Format is the text/plain form of a cell's result: %v, strings quoted.
func Format(v any) string { panic(declared) }

// Rich is the display bundle of a value of a compiled type (nil: none).
func Rich(v any) display.Bundle { panic(declared) }

// Result receives the display bundle of a cell's trailing expression.
func Result(b display.Bundle) { panic(declared) }

// Results receives the values of a cell's trailing call: last points to its last
// value, bundles are every value's display bundle (result.go).
func Results(last any, bundles ...display.Bundle) { panic(declared) }

// Types receives the dynamic types of values (genericdefine.go).
func Types(vals ...any) { panic(declared) }

// Zero sets each *T it is given to T's zero value (tuple.go).
func Zero(ptrs ...any) { panic(declared) }

// ClosedChan replaces the channel *p with a closed channel of its type (tuple.go).
func ClosedChan(p any) { panic(declared) }

// Unwrap returns the errors err wraps: Unwrap() error or Unwrap() []error
// (errors.AsType's shim walks the tree with it).
func Unwrap(err error) []error { panic(declared) }
