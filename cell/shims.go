package cell

import (
	"go/ast"
	"go/parser"
	"go/token"
	"sort"
	"strings"
	"sync"
)

// shimSources are interpreted Go packages compiled into every interpreter before
// the prelude. iter is missing from yaegi's standard library tables (it was
// generated for Go 1.22), so its two types come as source.
var shimSources = []struct{ name, code string }{
	{"iter", `package iter

// Seq is an iterator over sequences of individual values.
type Seq[V any] func(yield func(V) bool)

// Seq2 is an iterator over sequences of pairs of values.
type Seq2[K, V any] func(yield func(K, V) bool)
`},
}

// shimPrelude holds the modern-Go functions yaegi v0.16.1 lacks, written as
// interpreted Go in the generic shapes yaegi can run (plain []E and map[K]V
// parameters, no core-type constraints such as S ~[]E). The session rewrites
// `slices.Sorted(…)` to `_golem_slices_Sorted(…)`, `min(…)` to `_golemMin(…)`,
// and range-over-func loops to _golemPull/_golemPull2.
const shimPrelude = `import (
	"sort"
	"strings"
)

var _golemVals []any

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

// _golemPull turns a push iterator into next/stop functions; the iterator runs in
// its own goroutine and a panic in it is re-raised by next.
func _golemPull[V any](seq func(yield func(V) bool)) (func() (V, bool), func()) {
	type item struct {
		v     V
		panic any
		fail  bool
	}
	ch := make(chan item)
	done := make(chan struct{})
	go func() {
		defer close(ch)
		defer func() {
			if r := recover(); r != nil {
				select {
				case ch <- item{panic: r, fail: true}:
				case <-done:
				}
			}
		}()
		seq(func(v V) bool {
			select {
			case ch <- item{v: v}:
				return true
			case <-done:
				return false
			}
		})
	}()
	next := func() (V, bool) {
		it, ok := <-ch
		if it.fail {
			panic(it.panic)
		}
		return it.v, ok
	}
	stop := func() {
		select {
		case <-done:
		default:
			close(done)
		}
	}
	return next, stop
}

func _golemPull2[K, V any](seq func(yield func(K, V) bool)) (func() (K, V, bool), func()) {
	type item struct {
		k     K
		v     V
		panic any
		fail  bool
	}
	ch := make(chan item)
	done := make(chan struct{})
	go func() {
		defer close(ch)
		defer func() {
			if r := recover(); r != nil {
				select {
				case ch <- item{panic: r, fail: true}:
				case <-done:
				}
			}
		}()
		seq(func(k K, v V) bool {
			select {
			case ch <- item{k: k, v: v}:
				return true
			case <-done:
				return false
			}
		})
	}()
	next := func() (K, V, bool) {
		it, ok := <-ch
		if it.fail {
			panic(it.panic)
		}
		return it.k, it.v, ok
	}
	stop := func() {
		select {
		case <-done:
		default:
			close(done)
		}
	}
	return next, stop
}

func _golem_iter_Pull[V any](seq func(yield func(V) bool)) (func() (V, bool), func()) {
	return _golemPull(seq)
}

func _golem_iter_Pull2[K, V any](seq func(yield func(K, V) bool)) (func() (K, V, bool), func()) {
	return _golemPull2(seq)
}

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

func _golem_maps_Keys[K comparable, V any](m map[K]V) func(yield func(K) bool) {
	return func(yield func(K) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

func _golem_maps_Values[K comparable, V any](m map[K]V) func(yield func(V) bool) {
	return func(yield func(V) bool) {
		for _, v := range m {
			if !yield(v) {
				return
			}
		}
	}
}

func _golem_maps_All[K comparable, V any](m map[K]V) func(yield func(K, V) bool) {
	return func(yield func(K, V) bool) {
		for k, v := range m {
			if !yield(k, v) {
				return
			}
		}
	}
}

func _golem_maps_Collect[K comparable, V any](seq func(yield func(K, V) bool)) map[K]V {
	m := map[K]V{}
	seq(func(k K, v V) bool {
		m[k] = v
		return true
	})
	return m
}

func _golem_maps_Insert[K comparable, V any](m map[K]V, seq func(yield func(K, V) bool)) {
	seq(func(k K, v V) bool {
		m[k] = v
		return true
	})
}

func _golem_maps_Clone[K comparable, V any](m map[K]V) map[K]V {
	if m == nil {
		return nil
	}
	out := make(map[K]V, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

func _golem_maps_Copy[K comparable, V any](dst, src map[K]V) {
	for k, v := range src {
		dst[k] = v
	}
}

func _golem_maps_DeleteFunc[K comparable, V any](m map[K]V, del func(K, V) bool) {
	for k, v := range m {
		if del(k, v) {
			delete(m, k)
		}
	}
}

func _golem_maps_Equal[K, V comparable](m1, m2 map[K]V) bool {
	if len(m1) != len(m2) {
		return false
	}
	for k, v1 := range m1 {
		if v2, ok := m2[k]; !ok || v1 != v2 {
			return false
		}
	}
	return true
}

// _golemLines is strings.Lines as a slice (for range loops over strings.Lines).
func _golemLines(s string) []string {
	var out []string
	for len(s) > 0 {
		i := strings.IndexByte(s, '\n')
		line := s
		if i >= 0 {
			line = s[:i+1]
		}
		s = s[len(line):]
		out = append(out, line)
	}
	return out
}

func _golem_strings_Lines(s string) func(yield func(string) bool) {
	return func(yield func(string) bool) {
		for len(s) > 0 {
			i := strings.IndexByte(s, '\n')
			line := s
			if i >= 0 {
				line = s[:i+1]
			}
			s = s[len(line):]
			if !yield(line) {
				return
			}
		}
	}
}

func _golem_strings_SplitSeq(s, sep string) func(yield func(string) bool) {
	return func(yield func(string) bool) {
		for _, part := range strings.Split(s, sep) {
			if !yield(part) {
				return
			}
		}
	}
}

func _golem_strings_SplitAfterSeq(s, sep string) func(yield func(string) bool) {
	return func(yield func(string) bool) {
		for _, part := range strings.SplitAfter(s, sep) {
			if !yield(part) {
				return
			}
		}
	}
}

func _golem_strings_FieldsSeq(s string) func(yield func(string) bool) {
	return func(yield func(string) bool) {
		for _, part := range strings.Fields(s) {
			if !yield(part) {
				return
			}
		}
	}
}

func _golem_strings_FieldsFuncSeq(s string, f func(rune) bool) func(yield func(string) bool) {
	return func(yield func(string) bool) {
		for _, part := range strings.FieldsFunc(s, f) {
			if !yield(part) {
				return
			}
		}
	}
}
`

var (
	shimOnce  sync.Once
	shimFuncs map[string]map[string]bool // package -> shimmed function names
	shimIters map[string]bool            // shim functions that return an iterator ("slices.Values")
	shimGen   map[string]bool            // prelude functions that are generic
	shimSigs  map[string]*ast.FuncType   // prelude function -> its signature
)

// shimSignature returns the signature of a prelude function (nil: none).
func shimSignature(name string) *ast.FuncType {
	shimTable()
	return shimSigs[name]
}

// shimGeneric returns the names of the generic functions of the prelude.
func shimGeneric() map[string]bool {
	shimTable()
	return shimGen
}

// shimTable parses the prelude once to learn which package functions it provides.
func shimTable() (map[string]map[string]bool, map[string]bool) {
	shimOnce.Do(func() {
		shimFuncs, shimIters, shimGen, shimSigs = map[string]map[string]bool{}, map[string]bool{}, map[string]bool{}, map[string]*ast.FuncType{}
		f, err := parser.ParseFile(token.NewFileSet(), "", "package main\n"+shimPrelude, 0)
		if err != nil {
			panic("session: shim prelude does not parse: " + err.Error())
		}
		for _, d := range f.Decls {
			fd, ok := d.(*ast.FuncDecl)
			if !ok {
				continue
			}
			shimSigs[fd.Name.Name] = fd.Type
			if fd.Type.TypeParams != nil {
				shimGen[fd.Name.Name] = true
			}
			if !strings.HasPrefix(fd.Name.Name, "_golem_") {
				continue
			}
			parts := strings.SplitN(strings.TrimPrefix(fd.Name.Name, "_golem_"), "_", 2)
			if len(parts) != 2 {
				continue
			}
			if shimFuncs[parts[0]] == nil {
				shimFuncs[parts[0]] = map[string]bool{}
			}
			shimFuncs[parts[0]][parts[1]] = true
			if fd.Type.Results != nil && len(fd.Type.Results.List) == 1 {
				if ft, ok := fd.Type.Results.List[0].Type.(*ast.FuncType); ok && ft.Params != nil && len(ft.Params.List) == 1 {
					if p := ft.Params.List[0]; len(p.Names) == 1 && p.Names[0].Name == "yield" {
						shimIters[parts[0]+"."+parts[1]] = true
					}
				}
			}
		}
	})
	return shimFuncs, shimIters
}

// shimMembers lists the functions a shim adds to package path (for completion).
func (s *Session) shimMembers(path string) []string {
	funcs, _ := shimTable()
	var out []string
	for n := range funcs[path] {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}
