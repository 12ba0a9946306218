package cell

import (
	"fmt"
	"go/ast"
	"go/doc"
	"go/parser"
	"go/printer"
	"go/scanner"
	"go/token"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"sort"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/traefik/yaegi/stdlib"

	gostd "github.com/golem-lm/golem/cell/stdlib"
	"github.com/golem-lm/golem/cell/symbols"
	"github.com/golem-lm/golem/display"
)

var goKeywords = []string{"break", "case", "chan", "const", "continue", "default", "defer", "else",
	"fallthrough", "for", "func", "go", "goto", "if", "import", "interface", "map", "package", "range",
	"return", "select", "struct", "switch", "type", "var"}

var goBuiltins = []string{"any", "append", "bool", "byte", "cap", "clear", "close", "comparable", "complex",
	"complex128", "complex64", "copy", "delete", "error", "false", "float32", "float64", "imag", "int",
	"int16", "int32", "int64", "int8", "iota", "len", "make", "max", "min", "new", "nil", "panic", "print",
	"println", "real", "recover", "rune", "string", "true", "uint", "uint16", "uint32", "uint64", "uint8",
	"uintptr"}

// byteOffset converts a cursor in unicode code points to a byte offset in code.
func byteOffset(code string, cursor int) int {
	if cursor <= 0 {
		return 0
	}
	i := 0
	for n := 0; i < len(code) && n < cursor; n++ {
		_, w := utf8.DecodeRuneInString(code[i:])
		i += w
	}
	return i
}

func isIdentRune(r rune) bool { return r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r) }

// wordAt returns the identifier chain ending at byte offset off ("fmt.Pri" gives
// qual "fmt", word "Pri") and the byte offset where word starts.
func wordAt(code string, off int) (qual, word string, start int) {
	start = off
	for start > 0 {
		r, w := utf8.DecodeLastRuneInString(code[:start])
		if !isIdentRune(r) {
			break
		}
		start -= w
	}
	word = code[start:off]
	if start > 0 && code[start-1] == '.' {
		q := start - 1
		for q > 0 {
			r, w := utf8.DecodeLastRuneInString(code[:q])
			if !isIdentRune(r) && r != '.' {
				break
			}
			q -= w
		}
		qual = code[q : start-1]
	}
	return qual, word, start
}

// Complete returns the completions of the identifier before cursor: identifiers in
// scope (the user's globals, names declared in this cell, builtins, keywords,
// imported packages), members of a package (`fmt.Pri`) and fields and methods of
// a value in scope (`p.`). cursor, start and end count unicode code points.
func (s *Session) Complete(code string, cursor int) (matches []string, start, end int) {
	off := byteOffset(code, cursor)
	qual, word, startB := wordAt(code, off)
	start, end = utf8.RuneCountInString(code[:startB]), cursor
	var cands []string
	if s.tryLockIdle() {
		defer s.unlockIdle()
		if s.in == nil {
			return nil, start, end
		}
		if qual != "" {
			cands = s.members(qual, code)
		} else {
			cands = s.scopeNames(code)
		}
	} else {
		// A cell is running: answer from static tables, without the interpreter.
		cands = staticNames(qual, code)
	}
	seen := map[string]bool{}
	for _, c := range cands {
		if strings.HasPrefix(c, word) && !strings.HasPrefix(c, "_golem") && !seen[c] {
			seen[c] = true
			matches = append(matches, c)
		}
	}
	sort.Strings(matches)
	return matches, start, end
}

// staticNames are the completions available while a cell runs: keywords,
// builtins, names declared in code, standard-library and display members.
func staticNames(qual, code string) []string {
	if qual == "" {
		return append(append(append([]string{}, goKeywords...), goBuiltins...), declaredIn(code)...)
	}
	path, ok := stdPackageByName()[qual]
	if qual == "display" {
		path, ok = "github.com/golem-lm/golem/display", true
	}
	if !ok {
		return nil
	}
	var out []string
	for n := range stdlibSymbols()[path+"/"+exportedPackageName(path)] {
		if ast.IsExported(n) {
			out = append(out, n)
		}
	}
	for n := range symbols.Symbols[path+"/"+filepath.Base(path)] {
		if ast.IsExported(n) {
			out = append(out, n)
		}
	}
	return append(out, shimMembers(path)...)
}

// scopeNames lists identifiers usable at the top of a cell.
func (s *Session) scopeNames(code string) []string {
	names := append(append([]string{}, goKeywords...), goBuiltins...)
	for n := range s.globals() {
		names = append(names, n)
	}
	for n := range s.st.names {
		names = append(names, n)
	}
	for n := range s.st.imports {
		names = append(names, n)
	}
	names = append(names, "display")
	kept := names[:0]
	for _, n := range names {
		if !s.st.hidden[n] { // only a failed cell defined it (undefined.go)
			kept = append(kept, n)
		}
	}
	return append(kept, declaredIn(code)...)
}

// declaredIn finds identifiers a piece of code declares (x := …, var x, func f, type T).
func declaredIn(code string) []string {
	fset := token.NewFileSet()
	f := fset.AddFile("", -1, len(code))
	var sc scanner.Scanner
	sc.Init(f, []byte(code), nil, 0)
	var out []string
	var prev token.Token
	var pending []string
	for {
		_, t, lit := sc.Scan()
		if t == token.EOF {
			break
		}
		switch {
		case t == token.IDENT && (prev == token.VAR || prev == token.CONST || prev == token.TYPE || prev == token.FUNC):
			out = append(out, lit)
		case t == token.IDENT && (prev == token.COMMA || prev == token.SEMICOLON || prev == token.LBRACE || prev == token.LPAREN || prev == token.ILLEGAL || prev == token.FOR):
			pending = append(pending, lit)
		case t == token.IDENT:
			pending = []string{lit}
		case t == token.DEFINE:
			out = append(out, pending...)
			pending = nil
		case t != token.COMMA:
			pending = nil
		}
		prev = t
	}
	return out
}

// members lists what follows "qual.": package members or a value's fields and methods.
func (s *Session) members(qual, code string) []string {
	if !strings.Contains(qual, ".") {
		if path, ok := s.packagePath(qual); ok {
			var out []string
			for _, syms := range s.symbols(path) {
				for n := range syms {
					if ast.IsExported(n) {
						out = append(out, n)
					}
				}
			}
			out = append(out, shimMembers(path)...)
			return out
		}
	}
	v, ok := s.valueOf(qual)
	if !ok {
		return nil
	}
	return fieldsAndMethods(v, s.st.types)
}

// packagePath resolves a package name used in a cell to its import path: the
// cell's imports first, then the standard library by last element.
func (s *Session) packagePath(name string) (string, bool) {
	if p, ok := s.st.imports[name]; ok {
		return p, true
	}
	if name == "display" {
		return "github.com/golem-lm/golem/display", true
	}
	if p, ok := stdPackageByName()[name]; ok {
		return p, true
	}
	return "", false
}

var (
	stdOnce  sync.Once
	stdNames map[string]string
)

// stdPackageByName maps a package name to its standard-library import path
// (from the interpreter's symbol table; ambiguous names keep the shortest path).
func stdPackageByName() map[string]string {
	stdOnce.Do(func() {
		stdNames = map[string]string{}
		for k := range stdlibSymbols() {
			p := filepath.Dir(k)
			n := filepath.Base(k)
			old, ok := stdNames[n]
			if !ok || len(p) < len(old) || len(p) == len(old) && p < old {
				stdNames[n] = p
			}
		}
		stdNames["template"] = "text/template" // not html/template (same length)
	})
	return stdNames
}

// valueOf evaluates a dotted chain of global variables and fields (`p`, `p.Inner`)
// by reflection on the live values, without running code.
func (s *Session) valueOf(chain string) (reflect.Value, bool) {
	parts := strings.Split(chain, ".")
	v, ok := s.globals()[parts[0]]
	if !ok || !v.IsValid() {
		return v, false
	}
	for _, p := range parts[1:] {
		for v.Kind() == reflect.Interface || v.Kind() == reflect.Pointer {
			if v.IsNil() {
				return v, false
			}
			v = v.Elem()
		}
		if v.Kind() != reflect.Struct {
			return v, false
		}
		v = v.FieldByName(p)
		if !v.IsValid() {
			return v, false
		}
	}
	return v, true
}

// fieldsAndMethods lists exported-or-not fields and the methods of v: compiled
// methods by reflection, interpreted ones from the declarations the session saw
// (matched on the struct's field names, since yaegi's reflect types are unnamed).
func fieldsAndMethods(v reflect.Value, methods map[string]*typeInfo) []string {
	var out []string
	for v.Kind() == reflect.Interface && !v.IsNil() {
		v = v.Elem()
	}
	t := v.Type()
	for i := 0; i < t.NumMethod(); i++ {
		out = append(out, t.Method(i).Name)
	}
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
		for i := 0; i < reflect.PointerTo(t).NumMethod(); i++ {
			out = append(out, reflect.PointerTo(t).Method(i).Name)
		}
	}
	if t.Kind() == reflect.Struct {
		var fields []string
		for i := 0; i < t.NumField(); i++ {
			fields = append(fields, t.Field(i).Name)
		}
		out = append(out, fields...)
		key := strings.Join(fields, ",")
		for _, ti := range methods {
			if ti.fields == key {
				out = append(out, ti.methods...)
			}
		}
	}
	return out
}

// typeInfo is what completion knows about a type the user declared.
type typeInfo struct {
	fields  string   // comma-joined field names (struct types)
	methods []string // method names
	decl    string   // source of the declaration, for Inspect
}

// IsComplete tells a frontend whether code is ready to run: "complete",
// "incomplete" (with the indent for the next line) when brackets are open or the
// last line ends in an operator, "invalid" when it cannot become valid.
func (s *Session) IsComplete(code string) (status, indent string) {
	if strings.TrimSpace(code) == "" {
		return "complete", ""
	}
	segs, err := splitMagics(code)
	if err != nil {
		return "invalid", ""
	}
	if len(segs) > 0 && segs[0].magic != nil && strings.HasPrefix(segs[0].magic.name, "%") {
		return "complete", "" // a cell magic owns the cell
	}
	var goCode strings.Builder
	for _, sg := range segs {
		if sg.magic == nil {
			goCode.WriteString(sg.code)
			goCode.WriteByte('\n')
		}
	}
	src := []byte(goCode.String())
	fset := token.NewFileSet()
	f := fset.AddFile("", -1, len(src))
	var sc scanner.Scanner
	scanErr := false
	sc.Init(f, src, func(_ token.Position, msg string) {
		if strings.Contains(msg, "not terminated") {
			scanErr = true
		}
	}, 0)
	depth := 0
	var last token.Token
	for {
		_, t, lit := sc.Scan()
		if t == token.EOF {
			break
		}
		switch t {
		case token.LPAREN, token.LBRACE, token.LBRACK:
			depth++
		case token.RPAREN, token.RBRACE, token.RBRACK:
			depth--
		}
		if t == token.SEMICOLON && lit == "\n" {
			continue
		}
		last = t
	}
	if scanErr {
		return "incomplete", ""
	}
	if depth < 0 {
		return "invalid", ""
	}
	if depth > 0 {
		return "incomplete", strings.Repeat("\t", depth)
	}
	if last.IsOperator() && last != token.RPAREN && last != token.RBRACE && last != token.RBRACK &&
		last != token.INC && last != token.DEC && last != token.SEMICOLON {
		return "incomplete", "\t"
	}
	// Balanced: does it parse (as statements or declarations)?
	chunks, isProgram := splitCell(src)
	if isProgram {
		if _, err := parser.ParseFile(token.NewFileSet(), "", src, 0); err != nil {
			return "invalid", ""
		}
		return "complete", ""
	}
	decl := "package main\n" + string(blankOut(src, chunks, func(k chunkKind) bool { return k != chunkStmt }))
	stmt := "package main\nfunc main() {\n" + string(blankOut(src, chunks, func(k chunkKind) bool { return k == chunkStmt })) + "\n}"
	if _, err := parser.ParseFile(token.NewFileSet(), "", decl, 0); err != nil {
		return "invalid", ""
	}
	if _, err := parser.ParseFile(token.NewFileSet(), "", stmt, 0); err != nil {
		return "invalid", ""
	}
	return "complete", ""
}

// Inspect describes the symbol under the cursor: for a package member its
// signature and documentation (go/doc over $GOROOT/src, cached), for a value in
// scope its type and value, for a function declared in a cell its signature
// (detail > 0: its whole source), for a type its declaration.
func (s *Session) Inspect(code string, cursor, detail int) (display.Bundle, bool) {
	off := byteOffset(code, cursor)
	// extend to the end of the identifier under the cursor
	for off < len(code) {
		r, w := utf8.DecodeRuneInString(code[off:])
		if !isIdentRune(r) {
			break
		}
		off += w
	}
	qual, word, _ := wordAt(code, off)
	if word == "" {
		return nil, false
	}
	if !s.tryLockIdle() {
		// A cell is running: documentation of packages and builtins only.
		text := ""
		if path, ok := stdPackageByName()[qual]; ok {
			text = packageDoc(path, word)
		} else if qual == "" {
			text = packageDoc("builtin", word)
		}
		if text == "" {
			return nil, false
		}
		return display.Bundle{"text/plain": text, "text/markdown": "```go\n" + text + "\n```"}, true
	}
	defer s.unlockIdle()
	if s.in == nil {
		return nil, false
	}
	var text string
	switch {
	case qual != "":
		if path, ok := s.packagePath(qual); ok {
			text = packageDoc(path, word)
		} else if v, ok := s.valueOf(qual + "." + word); ok {
			text = describeValue(qual+"."+word, v)
		}
	default:
		if v, ok := s.globals()[word]; ok && v.IsValid() {
			text = describeValue(word, v)
		} else if ti, ok := s.st.types[word]; ok {
			text = ti.decl
		} else if d, ok := s.st.funcs[word]; ok {
			text = d
			if full, ok := s.st.funcSrc[word]; ok && detail > 0 {
				text = full
			}
		} else if path, ok := s.packagePath(word); ok {
			text = packageDoc(path, "")
		} else {
			text = packageDoc("builtin", word)
		}
	}
	if text == "" {
		return nil, false
	}
	return display.Bundle{"text/plain": text, "text/markdown": "```go\n" + text + "\n```"}, true
}

func describeValue(name string, v reflect.Value) string {
	for v.Kind() == reflect.Interface && !v.IsNil() {
		v = v.Elem()
	}
	if !v.CanInterface() {
		return fmt.Sprintf("%s %s", name, v.Type())
	}
	val := formatValue(v.Interface())
	if len(val) > 2000 {
		val = val[:2000] + "…"
	}
	return fmt.Sprintf("%s %s\n\n%s", name, v.Type(), val)
}

var (
	docMu    sync.Mutex
	docCache = map[string]*doc.Package{}
)

// packageDoc returns the declaration and doc comment of name in the package at
// import path (a standard-library or golem package), or the package synopsis
// when name is empty.
func packageDoc(path, name string) string {
	p := loadDoc(path)
	if p == nil {
		return ""
	}
	if name == "" {
		return "package " + p.Name + " // import \"" + path + "\"\n\n" + p.Doc
	}
	fset := token.NewFileSet()
	show := func(decl ast.Node, docText string) string {
		var b strings.Builder
		printer.Fprint(&b, fset, decl)
		return b.String() + "\n\n" + strings.TrimSpace(docText)
	}
	for _, f := range p.Funcs {
		if f.Name == name {
			f.Decl.Body = nil
			return show(f.Decl, f.Doc)
		}
	}
	for _, t := range p.Types {
		if t.Name == name {
			return show(t.Decl, t.Doc)
		}
		for _, f := range append(t.Funcs, t.Methods...) {
			if f.Name == name {
				f.Decl.Body = nil
				return show(f.Decl, f.Doc)
			}
		}
	}
	for _, vs := range [][]*doc.Value{p.Vars, p.Consts} {
		for _, v := range vs {
			for _, n := range v.Names {
				if n == name {
					return show(v.Decl, v.Doc)
				}
			}
		}
	}
	return ""
}

// loadDoc parses the package's source once (comments and declarations only).
func loadDoc(path string) *doc.Package {
	docMu.Lock()
	defer docMu.Unlock()
	if p, ok := docCache[path]; ok {
		return p
	}
	dir := filepath.Join(runtime.GOROOT(), "src", filepath.FromSlash(path))
	if strings.HasPrefix(path, "github.com/golem-lm/golem/") {
		dir = filepath.Join(moduleRoot(), strings.TrimPrefix(path, "github.com/golem-lm/golem/"))
	}
	fset := token.NewFileSet()
	pkgs, err := parser.ParseDir(fset, dir, func(fi os.FileInfo) bool {
		return !strings.HasSuffix(fi.Name(), "_test.go")
	}, parser.ParseComments)
	var p *doc.Package
	if err == nil {
		for name, pk := range pkgs {
			if name == "main" || strings.HasSuffix(name, "_test") {
				continue
			}
			p = doc.New(pk, path, doc.AllDecls)
			break
		}
	}
	docCache[path] = p
	return p
}

// moduleRoot finds golem's source tree (for docs of golem packages): the
// directory of this file at build time if it still exists, else the working tree.
func moduleRoot() string {
	_, file, _, ok := runtime.Caller(0)
	if ok {
		root := filepath.Clean(filepath.Join(filepath.Dir(file), ".."))
		if _, err := os.Stat(filepath.Join(root, "go.mod")); err == nil {
			return root
		}
	}
	wd, _ := os.Getwd()
	return wd
}

func stdlibSymbols() map[string]map[string]reflect.Value { return mergedStdlib() }

// mergedStdlib is yaegi's standard library tables with cell/stdlib's (what the
// installed Go added since) merged in, name by name, as the interpreter has them.
var mergedStdlib = sync.OnceValue(func() map[string]map[string]reflect.Value {
	out := make(map[string]map[string]reflect.Value, len(stdlib.Symbols)+len(gostd.Symbols))
	for _, table := range []map[string]map[string]reflect.Value{stdlib.Symbols, gostd.Symbols} {
		for k, syms := range table {
			m := out[k]
			if m == nil {
				m = make(map[string]reflect.Value, len(syms))
				out[k] = m
			}
			for n, v := range syms {
				m[n] = v
			}
		}
	}
	return out
})
