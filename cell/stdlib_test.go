package cell

import (
	"fmt"
	"reflect"
	"sort"
	"strings"
	"testing"

	gostd "github.com/golem-lm/golem/cell/stdlib"
)

// TestStdlibReachable walks every exported name of the standard packages cells
// can import (gostd.Packages, read from the installed GOROOT) and fails for each
// one a cell cannot reach that is not on stdlibUnreachable: a non-generic name
// must be in the interpreter's symbol tables (yaegi's, then cell/stdlib's), a
// generic function must have a shim in the prelude.
func TestStdlibReachable(t *testing.T) {
	s := newTestSession(t)
	var unreachable []string
	allowed := map[string]bool{}
	reached, total := 0, 0
	for _, path := range gostd.Packages {
		pkgName, names, err := gostd.ExportedNames(path)
		if err != nil {
			t.Fatal(err)
		}
		table := s.symbols(path)[path]
		for _, n := range names {
			total++
			id := path + "." + n.Name
			ok := false
			switch {
			case !n.Generic:
				_, ok = table[n.Name]
			case n.Kind == "func":
				ok = shimFor(path, n.Name) != nil
			case path == "iter":
				ok = n.Name == "Seq" || n.Name == "Seq2" // prelude/iter, a source package
			default:
				// a constraint interface (cmp.Ordered) from yaegi's generic sources
				probe := fmt.Sprintf("import %s %q\nfunc _golemProbe[T %s.%s]() {}", pkgName, path, pkgName, n.Name)
				_, err := s.Execute(t.Context(), probe)
				ok = err == nil
			}
			if ok {
				reached++
				continue
			}
			if _, listed := stdlibUnreachable[id]; listed {
				allowed[id] = true
			} else {
				kind := n.Kind
				if n.Generic {
					kind = "generic " + kind
				}
				unreachable = append(unreachable, fmt.Sprintf("%s (%s)", id, kind))
			}
		}
	}
	t.Logf("%d of %d exported names of %d standard packages reachable from a cell", reached, total, len(gostd.Packages))
	for id := range stdlibUnreachable {
		if !allowed[id] {
			t.Errorf("%s is on stdlibUnreachable but a cell reaches it now (or the installed Go has no such name): take it off the list", id)
		}
	}
	if len(unreachable) > 0 {
		sort.Strings(unreachable)
		t.Errorf("%d exported names of the installed Go cannot be reached from a cell and are not on stdlibUnreachable "+
			"(run `make stdlib` to regenerate cell/stdlib, add a shim to cell/prelude, or list them with a reason):\n%s",
			len(unreachable), strings.Join(unreachable, "\n"))
	}
}

// stdlibUnreachable are the exported names of the installed Go's standard
// library that a cell cannot use, with the reason and what to use instead. All
// are generic: a symbol table holds compiled values, and a generic function or
// type has none until it is instantiated, which yaegi v0.16.1 cannot do for
// compiled code; the prelude shims generic functions that interpreted Go can
// implement (slices, maps, cmp, errors.AsType, sync.OnceValue, …).
var stdlibUnreachable = map[string]string{
	"crypto/hkdf.Expand":           "generic in the hash (H hash.Hash): a shim would reimplement the cryptography; build it from crypto/hmac",
	"crypto/hkdf.Extract":          "generic in the hash, as hkdf.Expand",
	"crypto/hkdf.Key":              "generic in the hash, as hkdf.Expand",
	"crypto/pbkdf2.Key":            "generic in the hash, as hkdf.Expand",
	"database/sql.Null":            "a generic type: use sql.NullInt64, sql.NullString, …",
	"hash/maphash.Comparable":      "generic over comparable values: use maphash.String or maphash.Bytes",
	"hash/maphash.WriteComparable": "generic, as maphash.Comparable",
	"math/rand/v2.N":               "generic over integer types: use rand.IntN, rand.Int64N",
	"reflect.TypeAssert":           "generic: use a type assertion on v.Interface()",
	"reflect.TypeFor":              "generic: use reflect.TypeOf((*T)(nil)).Elem()",
	"runtime.AddCleanup":           "generic: use runtime.SetFinalizer",
	"sync/atomic.Pointer":          "a generic type: use atomic.Value",
	"unique.Handle":                "package unique is generic only (no interned handles in cells)",
	"unique.Make":                  "package unique is generic only",
	"weak.Make":                    "package weak is generic only (no weak pointers in cells)",
	"weak.Pointer":                 "package weak is generic only",
}

// TestStdlibTablesCompile: every name of cell/stdlib's generated tables (what the
// installed Go added since yaegi's Go 1.22 tables) is used from a cell, one
// session per package.
func TestStdlibTablesCompile(t *testing.T) {
	n := 0
	for key, syms := range gostd.Symbols {
		path, name := key[:strings.LastIndex(key, "/")], key[strings.LastIndex(key, "/")+1:]
		var b strings.Builder
		fmt.Fprintf(&b, "import %s %q\nfunc probe() {\n", name, path)
		for sym, v := range syms {
			switch {
			case strings.HasPrefix(sym, "_"): // an interface's wrapper type, for yaegi
				continue
			case v.Kind() == reflect.Pointer && v.IsNil() && v.Type().Elem().Name() == sym:
				fmt.Fprintf(&b, "\tvar t%d *%s.%s\n\t_ = t%d\n", n, name, sym, n)
			default:
				fmt.Fprintf(&b, "\t_ = %s.%s\n", name, sym)
			}
			n++
		}
		b.WriteString("}\n")
		s := newTestSession(t)
		if _, err := s.Execute(t.Context(), b.String()); err != nil {
			t.Errorf("%s: %v\n%s", path, err, b.String())
		}
	}
	t.Logf("%d names of %d packages used from cells", n, len(gostd.Symbols))
}
