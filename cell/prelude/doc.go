//go:build golemprelude

// Package prelude is Go that package cell compiles into every interpreter before
// the first cell: the functions that rewritten cells call in place of what yaegi
// v0.16.1 lacks (min and max, range over functions, the generic functions of
// slices, maps, cmp and iter, the iterators of strings) and the display of a
// cell's result. Names starting with _golem are hidden from completion.
//
// These files are not built as a package: package cell embeds them (prelude.go)
// and the build tag golemprelude keeps them out of every build, so that the
// interpreter, not the Go compiler, runs them. gofmt sees them as any file, and
// `make lint` vets them with the tag (`go vet -tags golemprelude ./cell/prelude/...`).
//
// The package clause is replaced by package main when they are compiled, and all
// files become one: each file imports what it uses, and the imports are merged.
// Subpackages: iter is the source of package iter, which yaegi's tables lack;
// golemrt declares, for vet and the reader, the compiled functions a cell calls as
// _golemrt.F (package cell exports them to each interpreter; their bodies here are
// never run).
package prelude
