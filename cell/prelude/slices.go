//go:build golemprelude

package prelude

import "sort"

// The generic functions of package slices, which yaegi v0.16.1 does not export
// (or runs wrongly): a call slices.F(…) is rewritten to _golem_slices_F(…)
// (shims.go in package cell). They are written in the generic shapes yaegi runs:
// plain []E parameters, no core-type constraints such as S ~[]E.

func _golem_slices_All[E any](s []E) func(yield func(int, E) bool) {
	return func(yield func(int, E) bool) {
		for i, v := range s {
			if !yield(i, v) {
				return
			}
		}
	}
}

func _golem_slices_Values[E any](s []E) func(yield func(E) bool) {
	return func(yield func(E) bool) {
		for _, v := range s {
			if !yield(v) {
				return
			}
		}
	}
}

func _golem_slices_Backward[E any](s []E) func(yield func(int, E) bool) {
	return func(yield func(int, E) bool) {
		for i := len(s) - 1; i >= 0; i-- {
			if !yield(i, s[i]) {
				return
			}
		}
	}
}

func _golem_slices_Collect[E any](seq func(yield func(E) bool)) []E {
	var out []E
	seq(func(v E) bool {
		out = append(out, v)
		return true
	})
	return out
}

func _golem_slices_AppendSeq[E any](s []E, seq func(yield func(E) bool)) []E {
	seq(func(v E) bool {
		s = append(s, v)
		return true
	})
	return s
}

func _golem_slices_Sorted[E _golemOrdered](seq func(yield func(E) bool)) []E {
	s := _golem_slices_Collect(seq)
	_golem_slices_Sort(s)
	return s
}

func _golem_slices_SortedFunc[E any](seq func(yield func(E) bool), cmp func(E, E) int) []E {
	s := _golem_slices_Collect(seq)
	_golem_slices_SortFunc(s, cmp)
	return s
}

func _golem_slices_Sort[E _golemOrdered](x []E) {
	sort.Slice(x, func(i, j int) bool { return _golem_cmp_Less(x[i], x[j]) })
}

func _golem_slices_SortFunc[E any](x []E, cmp func(a, b E) int) {
	sort.Slice(x, func(i, j int) bool { return cmp(x[i], x[j]) < 0 })
}

func _golem_slices_SortStableFunc[E any](x []E, cmp func(a, b E) int) {
	sort.SliceStable(x, func(i, j int) bool { return cmp(x[i], x[j]) < 0 })
}

func _golem_slices_IsSorted[E _golemOrdered](x []E) bool {
	for i := len(x) - 1; i > 0; i-- {
		if _golem_cmp_Less(x[i], x[i-1]) {
			return false
		}
	}
	return true
}

func _golem_slices_IsSortedFunc[E any](x []E, cmp func(a, b E) int) bool {
	for i := len(x) - 1; i > 0; i-- {
		if cmp(x[i], x[i-1]) < 0 {
			return false
		}
	}
	return true
}

func _golem_slices_BinarySearch[E _golemOrdered](x []E, target E) (int, bool) {
	i := sort.Search(len(x), func(i int) bool { return !_golem_cmp_Less(x[i], target) })
	return i, i < len(x) && _golem_cmp_Compare(x[i], target) == 0
}

func _golem_slices_BinarySearchFunc[E, T any](x []E, target T, cmp func(E, T) int) (int, bool) {
	i := sort.Search(len(x), func(i int) bool { return cmp(x[i], target) >= 0 })
	return i, i < len(x) && cmp(x[i], target) == 0
}

func _golem_slices_Min[E _golemOrdered](x []E) E {
	if len(x) < 1 {
		panic("slices.Min: empty list")
	}
	return _golemMin(x[0], x[1:]...)
}

func _golem_slices_Max[E _golemOrdered](x []E) E {
	if len(x) < 1 {
		panic("slices.Max: empty list")
	}
	return _golemMax(x[0], x[1:]...)
}

func _golem_slices_MinFunc[E any](x []E, cmp func(a, b E) int) E {
	if len(x) < 1 {
		panic("slices.MinFunc: empty list")
	}
	m := x[0]
	for i := 1; i < len(x); i++ {
		if cmp(x[i], m) < 0 {
			m = x[i]
		}
	}
	return m
}

func _golem_slices_MaxFunc[E any](x []E, cmp func(a, b E) int) E {
	if len(x) < 1 {
		panic("slices.MaxFunc: empty list")
	}
	m := x[0]
	for i := 1; i < len(x); i++ {
		if cmp(x[i], m) > 0 {
			m = x[i]
		}
	}
	return m
}

func _golem_slices_Index[E comparable](s []E, v E) int {
	for i := range s {
		if v == s[i] {
			return i
		}
	}
	return -1
}

func _golem_slices_IndexFunc[E any](s []E, f func(E) bool) int {
	for i := range s {
		if f(s[i]) {
			return i
		}
	}
	return -1
}

func _golem_slices_Contains[E comparable](s []E, v E) bool { return _golem_slices_Index(s, v) >= 0 }

func _golem_slices_ContainsFunc[E any](s []E, f func(E) bool) bool {
	return _golem_slices_IndexFunc(s, f) >= 0
}

func _golem_slices_Equal[E comparable](s1, s2 []E) bool {
	if len(s1) != len(s2) {
		return false
	}
	for i := range s1 {
		if s1[i] != s2[i] {
			return false
		}
	}
	return true
}

func _golem_slices_Reverse[E any](s []E) {
	for i, j := 0, len(s)-1; i < j; i, j = i+1, j-1 {
		s[i], s[j] = s[j], s[i]
	}
}

func _golem_slices_Clone[E any](s []E) []E {
	if s == nil {
		return nil
	}
	return append([]E{}, s...)
}

func _golem_slices_Compact[E comparable](s []E) []E {
	if len(s) < 2 {
		return s
	}
	i := 1
	for k := 1; k < len(s); k++ {
		if s[k] != s[k-1] {
			s[i] = s[k]
			i++
		}
	}
	return s[:i]
}

func _golem_slices_Insert[E any](s []E, i int, v ...E) []E {
	if i < 0 || i > len(s) {
		panic("slices.Insert: index out of range")
	}
	out := make([]E, 0, len(s)+len(v))
	out = append(out, s[:i]...)
	out = append(out, v...)
	return append(out, s[i:]...)
}

func _golem_slices_Delete[E any](s []E, i, j int) []E {
	if i < 0 || j > len(s) || i > j {
		panic("slices.Delete: index out of range")
	}
	n := copy(s[i:], s[j:])
	var zero E
	for k := i + n; k < len(s); k++ {
		s[k] = zero
	}
	return s[:i+n]
}

func _golem_slices_DeleteFunc[E any](s []E, del func(E) bool) []E {
	out := s[:0]
	for _, v := range s {
		if !del(v) {
			out = append(out, v)
		}
	}
	var zero E
	for k := len(out); k < len(s); k++ {
		s[k] = zero
	}
	return out
}

func _golem_slices_Concat[E any](ss ...[]E) []E {
	var out []E
	for _, s := range ss {
		out = append(out, s...)
	}
	return out
}

func _golem_slices_Repeat[E any](s []E, count int) []E {
	if count < 0 {
		panic("slices.Repeat: negative count")
	}
	out := make([]E, 0, len(s)*count)
	for i := 0; i < count; i++ {
		out = append(out, s...)
	}
	return out
}

func _golem_slices_Chunk[E any](s []E, n int) func(yield func([]E) bool) {
	if n < 1 {
		panic("slices.Chunk: cannot be less than 1")
	}
	return func(yield func([]E) bool) {
		for i := 0; i < len(s); i += n {
			end := i + n
			if end > len(s) {
				end = len(s)
			}
			if !yield(s[i:end:end]) {
				return
			}
		}
	}
}

func _golem_slices_Clip[E any](s []E) []E { return s[:len(s):len(s)] }

func _golem_slices_Grow[E any](s []E, n int) []E {
	if n < 0 {
		panic("cannot be negative")
	}
	if cap(s)-len(s) < n {
		out := make([]E, len(s), len(s)+n)
		copy(out, s)
		return out
	}
	return s
}

func _golem_slices_Compare[E _golemOrdered](s1, s2 []E) int {
	for i, v1 := range s1 {
		if i >= len(s2) {
			return +1
		}
		if c := _golem_cmp_Compare(v1, s2[i]); c != 0 {
			return c
		}
	}
	if len(s1) < len(s2) {
		return -1
	}
	return 0
}

func _golem_slices_CompareFunc[E1, E2 any](s1 []E1, s2 []E2, cmp func(E1, E2) int) int {
	for i, v1 := range s1 {
		if i >= len(s2) {
			return +1
		}
		if c := cmp(v1, s2[i]); c != 0 {
			return c
		}
	}
	if len(s1) < len(s2) {
		return -1
	}
	return 0
}

func _golem_slices_EqualFunc[E1, E2 any](s1 []E1, s2 []E2, eq func(E1, E2) bool) bool {
	if len(s1) != len(s2) {
		return false
	}
	for i, v1 := range s1 {
		if !eq(v1, s2[i]) {
			return false
		}
	}
	return true
}

func _golem_slices_CompactFunc[E any](s []E, eq func(E, E) bool) []E {
	if len(s) < 2 {
		return s
	}
	i := 1
	for k := 1; k < len(s); k++ {
		if !eq(s[k], s[k-1]) {
			s[i] = s[k]
			i++
		}
	}
	var zero E
	for k := i; k < len(s); k++ {
		s[k] = zero
	}
	return s[:i]
}

func _golem_slices_Replace[E any](s []E, i, j int, v ...E) []E {
	if i < 0 || j > len(s) || i > j {
		panic("slices.Replace: index out of range")
	}
	out := make([]E, 0, len(s)-(j-i)+len(v))
	out = append(out, s[:i]...)
	out = append(out, v...)
	out = append(out, s[j:]...)
	n := copy(s, out)
	if n == len(out) {
		var zero E
		for k := n; k < len(s); k++ {
			s[k] = zero
		}
		return s[:n]
	}
	return out
}

func _golem_slices_SortedStableFunc[E any](seq func(yield func(E) bool), cmp func(E, E) int) []E {
	s := _golem_slices_Collect(seq)
	_golem_slices_SortStableFunc(s, cmp)
	return s
}
