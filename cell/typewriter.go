package cell

// Writing types as Go source, for conversions the rewriter adds (compiledargs.go)
// and variables the session defines with a value's dynamic type
// (genericdefine.go).

import (
	"go/ast"
	"go/token"
	"reflect"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// typeWriter writes reflect types as Go source: named types of compiled packages
// as pkg.Name (pkg is a name under which the code refers to the package), the
// user's struct types by name (userStruct, which may be nil), the rest as type
// literals. The resolver writes the conversions of compiledargs.go with it, the
// session the variables of genericdefine.go.
type typeWriter struct {
	pos        token.Pos
	usable     func(name string) bool // the predeclared or package name is not hidden
	importName func(path string, free func(string) bool) (string, bool)
	userStruct func(t reflect.Type) string // the name of a struct type of the user's ("": none)
}

// typeAST writes t as a type expression ("", false when it cannot: an unexported
// type, an instance of a generic type, or a package whose name is taken).
func (w typeWriter) typeAST(t reflect.Type) (ast.Expr, bool) {
	if t == reflect.TypeFor[error]() {
		return ident(w.pos, "error"), w.usable("error")
	}
	if t.Kind() == reflect.Struct && t.Name() == "" && w.userStruct != nil {
		if n := w.userStruct(t); n != "" {
			return ident(w.pos, n), true
		}
	}
	if t.Name() != "" {
		if t.PkgPath() == "" {
			return ident(w.pos, t.Name()), w.usable(t.Name())
		}
		c, _ := utf8.DecodeRuneInString(t.Name())
		if !unicode.IsUpper(c) || strings.ContainsAny(t.Name(), "[]") || w.importName == nil {
			return nil, false
		}
		name, ok := w.importName(t.PkgPath(), w.usable)
		if !ok {
			return nil, false
		}
		return &ast.SelectorExpr{X: ident(w.pos, name), Sel: ident(w.pos, t.Name())}, true
	}
	return w.typeLit(t)
}

// typeLit writes t without its name: the type literal of its underlying type
// (map[string][]string for url.Values), to which a value of t converts.
func (w typeWriter) typeLit(t reflect.Type) (ast.Expr, bool) {
	pos := w.pos
	switch t.Kind() {
	case reflect.Slice:
		if e, ok := w.typeAST(t.Elem()); ok {
			return &ast.ArrayType{Lbrack: pos, Elt: e}, true
		}
	case reflect.Array:
		if e, ok := w.typeAST(t.Elem()); ok {
			return &ast.ArrayType{Lbrack: pos, Len: &ast.BasicLit{ValuePos: pos, Kind: token.INT, Value: strconv.Itoa(t.Len())}, Elt: e}, true
		}
	case reflect.Pointer:
		if e, ok := w.typeAST(t.Elem()); ok {
			return &ast.StarExpr{Star: pos, X: e}, true
		}
	case reflect.Map:
		k, ok1 := w.typeAST(t.Key())
		v, ok2 := w.typeAST(t.Elem())
		if ok1 && ok2 {
			return &ast.MapType{Map: pos, Key: k, Value: v}, true
		}
	case reflect.Chan:
		if e, ok := w.typeAST(t.Elem()); ok {
			dir := ast.SEND | ast.RECV
			switch t.ChanDir() {
			case reflect.SendDir:
				dir = ast.SEND
			case reflect.RecvDir:
				dir = ast.RECV
			}
			return &ast.ChanType{Begin: pos, Arrow: pos, Dir: dir, Value: e}, true
		}
	case reflect.Func:
		params := &ast.FieldList{Opening: pos, Closing: pos}
		for i := 0; i < t.NumIn(); i++ {
			in := t.In(i)
			variadic := t.IsVariadic() && i == t.NumIn()-1
			if variadic {
				in = in.Elem()
			}
			x, ok := w.typeAST(in)
			if !ok {
				return nil, false
			}
			if variadic {
				x = &ast.Ellipsis{Ellipsis: pos, Elt: x}
			}
			params.List = append(params.List, &ast.Field{Type: x})
		}
		var results *ast.FieldList
		if t.NumOut() > 0 {
			results = &ast.FieldList{Opening: pos, Closing: pos}
			for i := 0; i < t.NumOut(); i++ {
				x, ok := w.typeAST(t.Out(i))
				if !ok {
					return nil, false
				}
				results.List = append(results.List, &ast.Field{Type: x})
			}
		}
		return &ast.FuncType{Func: pos, Params: params, Results: results}, true
	case reflect.Interface:
		if t.NumMethod() == 0 {
			return &ast.InterfaceType{Interface: pos, Methods: &ast.FieldList{Opening: pos, Closing: pos}}, true
		}
	case reflect.Struct:
		fields := &ast.FieldList{Opening: pos, Closing: pos}
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			if !f.IsExported() {
				return nil, false
			}
			x, ok := w.typeAST(f.Type)
			if !ok {
				return nil, false
			}
			fl := &ast.Field{Type: x}
			if !f.Anonymous {
				fl.Names = []*ast.Ident{ident(pos, f.Name)}
			}
			if f.Tag != "" {
				fl.Tag = &ast.BasicLit{ValuePos: pos, Kind: token.STRING, Value: strconv.Quote(string(f.Tag))}
			}
			fields.List = append(fields.List, fl)
		}
		return &ast.StructType{Struct: pos, Fields: fields}, true
	}
	return nil, false
}
