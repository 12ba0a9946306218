package cell

import (
	"go/ast"
	"reflect"
	"strconv"
	"strings"

	"github.com/golem-lm/golem/cell/symbols"
)

// env is what the rewriting passes may ask of the world around the code they
// rewrite. A session answers for a notebook: the live values, imports and
// declarations of earlier cells (sessionEnv). A whole Go file (Rewrite, a
// whole-program cell) sees only its own imports, the standard library and golem's
// packages (fileEnv). Tests give the passes an env of their own, without yaegi.
type env interface {
	// global is the live value of a variable or constant an earlier cell defined.
	global(name string) (reflect.Value, bool)
	// pkg is the import path of the package that name refers to in this code.
	pkg(name string) (path string, ok bool)
	// symbol is the exported symbol name of the compiled package at path.
	symbol(path, name string) (reflect.Value, bool)
	// earlier reports whether an earlier cell declared name at package level, and
	// gives the source of the declaration of a function or type ("func F(x int)
	// int", "type T struct{…}"; ".M" asks for a method M).
	earlier(name string) (decl string, ok bool)
	// compiledVar is the type of a variable of an earlier cell defined from a
	// compiled package's value (nil: none), which yaegi knows only as a reflect
	// type (compiledargs.go).
	compiledVar(name string) reflect.Type
	// importName returns a name under which this code refers to the compiled
	// package at path: one it imports the package under, when free says the name
	// is not hidden where it is used, else a hidden name it is imported under now.
	importName(path string, free func(string) bool) (string, bool)
}

// sessionEnv is the env of a cell: the session, whose live values it reads once
// (in.Globals builds a map of every global).
type sessionEnv struct {
	s       *Session
	globals map[string]reflect.Value
}

func (e *sessionEnv) global(name string) (reflect.Value, bool) {
	if e.globals == nil {
		e.globals = e.s.globals()
	}
	v, ok := e.globals[name]
	return v, ok
}

func (e *sessionEnv) pkg(name string) (string, bool) {
	if e.s.st.names[name] {
		return "", false
	}
	return e.s.packagePath(name)
}

func (e *sessionEnv) symbol(path, name string) (reflect.Value, bool) {
	for _, syms := range e.s.symbols(path) {
		if v, ok := syms[name]; ok {
			return v, true
		}
	}
	return reflect.Value{}, false
}

func (e *sessionEnv) earlier(name string) (string, bool) {
	st := e.s.st
	if m, ok := strings.CutPrefix(name, "."); ok {
		src, ok := st.methods[m]
		return src, ok
	}
	if !st.names[name] {
		return "", false
	}
	if ti := st.types[name]; ti != nil && ti.decl != "" {
		return ti.decl, true
	}
	return st.funcs[name], true
}

func (e *sessionEnv) compiledVar(name string) reflect.Type { return e.s.st.compiled[name] }

func (e *sessionEnv) importName(path string, free func(string) bool) (string, bool) {
	return e.s.pkgRef(path, free)
}

// fileEnv is the env of a whole Go file: its imports, the standard library and
// golem's packages, no notebook. Packages its rewriting needs under a hidden
// name are added to added (addImports puts them in the file).
type fileEnv struct {
	imports map[string]string // name -> path, as the file imports them
	added   map[string]string // hidden name -> path, imports the rewrite adds
	file    *ast.File
}

func newFileEnv(f *ast.File) *fileEnv {
	e := &fileEnv{imports: map[string]string{}, added: map[string]string{}, file: f}
	for _, im := range f.Imports {
		p, err := strconv.Unquote(im.Path.Value)
		if err != nil {
			continue
		}
		name := pathBase(p)
		if im.Name != nil {
			name = im.Name.Name
		}
		e.imports[name] = p
	}
	return e
}

func (e *fileEnv) global(string) (reflect.Value, bool) { return reflect.Value{}, false }

func (e *fileEnv) pkg(name string) (string, bool) {
	if p, ok := e.imports[name]; ok {
		return p, true
	}
	p, ok := stdPackageByName()[name]
	return p, ok
}

func (e *fileEnv) symbol(path, name string) (reflect.Value, bool) {
	for _, table := range []map[string]map[string]reflect.Value{stdlibSymbols(), symbols.Symbols} {
		if v, ok := table[path+"/"+exportedPackageName(path)][name]; ok {
			return v, true
		}
	}
	return reflect.Value{}, false
}

func (e *fileEnv) earlier(string) (string, bool)   { return "", false }
func (e *fileEnv) compiledVar(string) reflect.Type { return nil }

func (e *fileEnv) importName(path string, free func(string) bool) (string, bool) {
	for _, im := range e.file.Imports {
		p, err := strconv.Unquote(im.Path.Value)
		if err != nil || p != path {
			continue
		}
		name := exportedPackageName(p)
		if im.Name != nil {
			name = im.Name.Name
		}
		if name != "" && name != "_" && name != "." && free(name) {
			return name, true
		}
	}
	name := hiddenPkgName(path)
	if name == "" {
		return "", false
	}
	e.added[name] = path
	return name, true
}

// pathBase is the last element of an import path.
func pathBase(p string) string {
	if i := strings.LastIndexByte(p, '/'); i >= 0 {
		return p[i+1:]
	}
	return p
}
