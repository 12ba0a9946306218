package cell

// The generic functions of the standard library, which yaegi v0.16.1 lacks.
//
// yaegi cannot export generic functions from compiled packages, so its standard
// library tables have no slices.Sort, maps.Keys, cmp.Compare; they were generated
// for Go 1.22, so strings.Lines, strings.SplitSeq and package iter are missing too.
// And an interpreted generic function runs only in the shapes yaegi handles: []E
// and map[K]V parameters, not core-type constraints such as S ~[]E ("undefined
// type for E").
//
// The prelude (cell/prelude) has an interpreted shim for each, written in those
// shapes and named by shimName: the shims pass rewrites a call pkg.F(…) into
// _golem_pkg_F(…) when the prelude has one and pkg is the package (not a name of
// the user's).

import (
	"go/ast"
	"sort"
	"strings"
)

// shimPrefix starts the name of every shim of the prelude.
const shimPrefix = "_golem_"

// shimName is the prelude function that stands for the package function
// path.name ("slices", "Sort" gives "_golem_slices_Sort"). Every shim name is
// built here and read back by shimOf.
func shimName(path, name string) string { return shimPrefix + path + "_" + name }

// shimOf is the package function that the prelude function fn stands for
// ("_golem_slices_Sort" gives "slices", "Sort"); ok is false for any other name.
func shimOf(fn string) (path, name string, ok bool) {
	rest, ok := strings.CutPrefix(fn, shimPrefix)
	if !ok {
		return "", "", false
	}
	path, name, ok = strings.Cut(rest, "_")
	return path, name, ok && path != "" && name != ""
}

// shimFor returns the prelude's declaration of the shim of path.name (nil: there
// is none).
func shimFor(path, name string) *ast.FuncDecl {
	if strings.Contains(path, "/") {
		return nil
	}
	return preludeFuncs()[shimName(path, name)]
}

// shimMembers lists the functions the prelude adds to package path (completion).
func shimMembers(path string) []string {
	var out []string
	for fn := range preludeFuncs() {
		if p, name, ok := shimOf(fn); ok && p == path {
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out
}

// genericPrelude reports whether the prelude function name is generic (its result
// cannot be bound to a new global: genericdefine.go).
func genericPrelude(name string) bool {
	fd := preludeFuncs()[name]
	return fd != nil && fd.Type.TypeParams != nil
}

// The prelude functions that rewritten code calls by name, besides the shims.
const (
	minFunc   = "_golemMin"   // min (minmax.go)
	maxFunc   = "_golemMax"   // max
	pullFunc  = "_golemPull"  // a range over a func(yield func(V) bool) (rangefunc.go)
	pull2Func = "_golemPull2" // a range over a func(yield func(K, V) bool)
	linesFunc = "_golemLines" // strings.Lines as a slice, for a range over it
	rtName    = "_golemrt"    // the name of the compiled runtime in cells (cell/prelude/golemrt)
)

// shims rewrites the calls of shimmed package functions: slices.Sort(xs) becomes
// _golem_slices_Sort(xs).
func shims(u *unit) error {
	u.eachCall(func(c *ast.CallExpr, _ walkContext) {
		shim := func(e ast.Expr) ast.Expr {
			fn, ok := e.(*ast.SelectorExpr)
			if !ok {
				return nil
			}
			if path, ok := u.packageOf(fn.X); ok && shimFor(path, fn.Sel.Name) != nil {
				return &ast.Ident{NamePos: fn.Pos(), Name: shimName(path, fn.Sel.Name)}
			}
			return nil
		}
		switch fn := c.Fun.(type) {
		case *ast.IndexExpr: // explicit instantiation: errors.AsType[*MyErr](err)
			if id := shim(fn.X); id != nil {
				fn.X = id
			}
		case *ast.IndexListExpr:
			if id := shim(fn.X); id != nil {
				fn.X = id
			}
		default:
			if id := shim(fn); id != nil {
				c.Fun = id
			}
		}
	})
	return nil
}
