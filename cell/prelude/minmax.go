//go:build golemprelude

package prelude

// min and max, which yaegi v0.16.1 does not have: minmax.go in package cell
// rewrites min(…) to _golemMin(…) and max(…) to _golemMax(…).

type _golemOrdered interface {
	~int | ~int8 | ~int16 | ~int32 | ~int64 | ~uint | ~uint8 | ~uint16 | ~uint32 | ~uint64 | ~uintptr | ~float32 | ~float64 | ~string
}

func _golemMin[T _golemOrdered](x T, y ...T) T {
	m := x
	for _, v := range y {
		if v < m || v != v {
			m = v
		}
	}
	return m
}

func _golemMax[T _golemOrdered](x T, y ...T) T {
	m := x
	for _, v := range y {
		if v > m || v != v {
			m = v
		}
	}
	return m
}
