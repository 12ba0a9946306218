package cell

// clear.
//
// yaegi v0.16.1 has no builtin clear (Go 1.21): "undefined: clear". The clear pass
// rewrites clear(x) into _golemrt.Clear(x), a compiled function over
// reflect.Value.Clear, unless the cell or an earlier one declares its own clear.

import (
	"fmt"
	"go/ast"
	"reflect"
)

// clearBuiltin rewrites the calls of clear.
func clearBuiltin(u *unit) error {
	u.eachCall(func(c *ast.CallExpr, _ walkContext) {
		if u.builtinCall(c, "clear") {
			pos := c.Fun.Pos()
			c.Fun = &ast.SelectorExpr{X: ident(pos, rtName), Sel: ident(pos, "Clear")}
		}
	})
	return nil
}

// clearValue is _golemrt.Clear: it deletes every entry of a map or sets every
// element of a slice to its zero value.
func clearValue(x any) {
	v := reflect.ValueOf(x)
	switch v.Kind() {
	case reflect.Map, reflect.Slice:
		v.Clear()
	case reflect.Invalid:
	default:
		panic(fmt.Sprintf("invalid argument: clear(%v) needs a map or a slice, not %s", x, v.Type()))
	}
}
