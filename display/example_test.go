package display_test

import "github.com/golem-lm/golem/display"

// Outside a notebook, every display call prints its text/plain form.
func Example() {
	display.HTML("<b>hello</b> from golem")
	display.Show(display.Table([]string{"step", "loss"}, [][]string{{"1", "4.17"}}))
	// Output:
	// hello from golem
	// step  loss
	// 1     4.17
}

// A slice of structs (or of maps) shows as a table, one row per element, as a
// cell's result does in a notebook.
func ExampleTableOf() {
	type stage struct {
		Name    string
		Kept    int
		Dropped float64
	}
	b, _ := display.TableOf([]stage{{"gopher_quality", 322, 0.178}, {"c4_quality", 317, 0.0155}})
	display.Show(b)
	// Output:
	//    Name            Kept  Dropped
	// 0  gopher_quality  322   0.178
	// 1  c4_quality      317   0.0155
}
