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
