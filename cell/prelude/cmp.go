//go:build golemprelude

package prelude

// The generic functions of package cmp, which yaegi v0.16.1 does not export: a
// call cmp.F(…) is rewritten to _golem_cmp_F(…) (shims.go in package cell).

func _golem_cmp_Compare[T _golemOrdered](x, y T) int {
	xNaN, yNaN := x != x, y != y
	if xNaN {
		if yNaN {
			return 0
		}
		return -1
	}
	if yNaN {
		return +1
	}
	if x < y {
		return -1
	}
	if x > y {
		return +1
	}
	return 0
}

func _golem_cmp_Less[T _golemOrdered](x, y T) bool { return (x != x && y == y) || x < y }

func _golem_cmp_Or[T comparable](first T, rest ...T) T {
	var zero T
	if first != zero {
		return first
	}
	for _, v := range rest {
		if v != zero {
			return v
		}
	}
	return zero
}
