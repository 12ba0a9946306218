package cell

// make larger than the memory.
//
// Go has no error for an allocation that is too large: make([]T, n) of more
// memory than the machine has ends the process ("fatal error: out of memory"), or
// the OOM killer ends it once the memory is used — in the kernel, every variable
// of the notebook with it. The make sizes pass rewrites
//
//	make([]T, n)  ->  make([]T, _golemrt.MakeSize(int64(n), (*T)(nil)))
//
// (the capacity too), and makeSize panics with the sizes when n elements of T do
// not fit in the memory available: the cell fails, the kernel lives on. Not inside
// generic functions, where T may be a type parameter.

import (
	"fmt"
	"go/ast"
	"math/bits"
	"os"
	"reflect"
	"strconv"
	"strings"
)

// makeSizes checks the sizes of the make calls of slices.
func makeSizes(u *unit) error {
	u.eachCall(func(c *ast.CallExpr, w walkContext) {
		if w.generic || len(c.Args) < 2 || u.made[c] || !u.builtinCall(c, "make") {
			return
		}
		at, ok := c.Args[0].(*ast.ArrayType)
		if !ok || at.Len != nil {
			return
		}
		put(&u.made, ast.Node(c), true)
		for i := 1; i < len(c.Args) && i < 3; i++ {
			a := c.Args[i]
			pos := a.Pos()
			elemPtr := &ast.CallExpr{Fun: &ast.ParenExpr{Lparen: pos, X: &ast.StarExpr{Star: pos, X: at.Elt}, Rparen: pos},
				Lparen: pos, Args: []ast.Expr{ident(pos, "nil")}, Rparen: pos}
			c.Args[i] = &ast.CallExpr{Fun: &ast.SelectorExpr{X: ident(pos, rtName), Sel: ident(pos, "MakeSize")}, Lparen: pos,
				Args:   []ast.Expr{&ast.CallExpr{Fun: ident(pos, "int64"), Lparen: pos, Args: []ast.Expr{a}, Rparen: a.End()}, elemPtr},
				Rparen: a.End()}
		}
	})
	return nil
}

// makeCheckFrom is the smallest make (in bytes) whose size is checked against
// the memory available: smaller ones cost nothing more than before.
const makeCheckFrom = 1 << 30

// makeSize returns n, the length or capacity of a make([]T, n), after checking
// that n elements of T (elem is a (*T)(nil)) fit in the memory the machine has
// available. Go has no error for an allocation that is too large: it ends the
// process ("fatal error: out of memory"), or the OOM killer does when the memory
// is used. A cell gets a panic that says so instead, and the kernel lives on.
func makeSize(n int64, elem any) int64 {
	if n <= 0 {
		return n // make panics itself on a negative size
	}
	t := reflect.TypeOf(elem)
	if t == nil || t.Kind() != reflect.Pointer {
		return n
	}
	size := uint64(t.Elem().Size())
	hi, total := bits.Mul64(uint64(n), size)
	if hi == 0 && total < makeCheckFrom {
		return n
	}
	avail, source := availableMemory()
	if avail == 0 || (hi == 0 && total <= avail) {
		return n
	}
	need := "more than 2^64 bytes"
	if hi == 0 {
		need = formatSize(total)
	}
	panic(fmt.Sprintf("make of %d elements of %s (%s): more than the %s of memory available (%s); "+
		"Go would end the kernel instead of failing, so the cell stops here. Allocate less, or process the data in parts",
		n, elemDesc(t.Elem()), need, formatSize(avail), source))
}

func elemDesc(t reflect.Type) string {
	if t.Size() == 1 {
		return fmt.Sprintf("%v (1 byte)", t)
	}
	return fmt.Sprintf("%v (%d bytes)", t, t.Size())
}

// availableMemory is what a new allocation can get: the kernel's MemAvailable,
// or less when the process's cgroup has a memory limit (v2 memory.max or v1
// memory.limit_in_bytes, minus what the cgroup uses). 0: unknown.
func availableMemory() (uint64, string) {
	avail, source := uint64(0), ""
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if f := strings.Fields(l); len(f) >= 2 && f[0] == "MemAvailable:" {
				if kb, err := strconv.ParseUint(f[1], 10, 64); err == nil {
					avail, source = kb<<10, "MemAvailable in /proc/meminfo"
				}
			}
		}
	}
	if limit, used, ok := cgroupMemory(); ok && limit > used && (avail == 0 || limit-used < avail) {
		avail, source = limit-used, "the memory limit of the kernel's cgroup"
	}
	return avail, source
}

// cgroupMemory reads the memory limit and use of this process's cgroup.
func cgroupMemory() (limit, used uint64, ok bool) {
	b, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		return 0, 0, false
	}
	for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		parts := strings.SplitN(l, ":", 3)
		if len(parts) != 3 {
			continue
		}
		var dir, limitFile, usageFile string
		switch {
		case parts[0] == "0" && parts[1] == "": // v2
			dir, limitFile, usageFile = "/sys/fs/cgroup"+parts[2], "memory.max", "memory.current"
		case strings.Contains(","+parts[1]+",", ",memory,"): // v1
			dir, limitFile, usageFile = "/sys/fs/cgroup/memory"+parts[2], "memory.limit_in_bytes", "memory.usage_in_bytes"
		default:
			continue
		}
		limit, err1 := readUint(dir + "/" + limitFile)
		used, err2 := readUint(dir + "/" + usageFile)
		if err1 != nil || err2 != nil || limit >= 1<<62 { // "max", or v1's "no limit"
			continue
		}
		return limit, used, true
	}
	return 0, 0, false
}

func readUint(path string) (uint64, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	return strconv.ParseUint(strings.TrimSpace(string(b)), 10, 64)
}

func formatSize(n uint64) string {
	switch {
	case n >= 1e12:
		return fmt.Sprintf("%.1f TB", float64(n)/1e12)
	case n >= 1e9:
		return fmt.Sprintf("%.1f GB", float64(n)/1e9)
	}
	return fmt.Sprintf("%.0f MB", float64(n)/1e6)
}
