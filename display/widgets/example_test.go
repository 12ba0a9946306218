package widgets_test

import (
	"fmt"

	"github.com/golem-lm/golem/display/widgets"
)

// A slider with a Go callback. Outside a kernel the widgets are plain values: Set
// runs the callbacks and nothing is sent; in a notebook the slider shows and
// moving it runs the callback.
func ExampleNewIntSlider() {
	topK := widgets.NewIntSlider("top-k", 1, 100, 40, widgets.ContinuousUpdate(false))
	topK.OnChange(func(k int) { fmt.Println("top-k is now", k) })
	topK.Set(5)
	topK.Set(500) // clamped to max
	fmt.Println(topK)
	// Output:
	// top-k is now 5
	// top-k is now 100
	// IntSlider(value=100, min=1, max=100, description="top-k")
}

// Controls in boxes, with an Output widget that collects what the callbacks print.
func ExampleVBox() {
	temperature := widgets.NewFloatSlider("temperature", 0, 1.5, 0.8, widgets.Step(0.05))
	again := widgets.NewButton("Sample again", widgets.ButtonStyle("primary"))
	out := widgets.NewOutput()
	again.OnClick(func() {
		out.Capture(func() { fmt.Printf("sampling at temperature %.2f\n", temperature.Value()) })
	})
	again.Click()
	ui := widgets.VBox(widgets.HBox(temperature, again), out)
	fmt.Println(ui.DisplayBundle()["text/plain"])
	// Output:
	// sampling at temperature 0.80
	// VBox(HBox(FloatSlider(value=0.8, min=0, max=1.5, description="temperature"), Button(description="Sample again")), Output())
}
