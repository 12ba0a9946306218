//go:build golemprelude

package prelude

// _golemVals carries the values of a definition whose value calls a generic
// function from the function that computes them to the definition itself: yaegi
// v0.16.1 cannot bind such a value to a new global (genericdefine.go in package
// cell).
var _golemVals []any
