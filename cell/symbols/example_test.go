package symbols_test

import (
	"fmt"

	"github.com/traefik/yaegi/interp"
	"github.com/traefik/yaegi/stdlib"

	"github.com/golem-lm/golem/cell/symbols"
)

// An interpreter that can import golem's packages: their code runs compiled.
func Example() {
	in := interp.New(interp.Options{})
	in.Use(stdlib.Symbols)
	in.Use(symbols.Symbols)
	if _, err := in.Eval(`import "github.com/golem-lm/golem/display"`); err != nil {
		fmt.Println(err)
	}
	v, err := in.Eval(`display.HTMLBundle("<b>bold</b> text")["text/plain"]`)
	fmt.Println(v, err)
	// Output: bold text <nil>
}
