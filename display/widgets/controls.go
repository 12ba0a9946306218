package widgets

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"sync"

	"github.com/golem-lm/golem/display"
)

// IntSlider is a slider over integers (IntSliderModel).
type IntSlider struct{ m *Model }

// NewIntSlider returns a slider from min to max at value (clamped), step 1 unless
// Step says otherwise.
func NewIntSlider(description string, min, max, value int, opts ...Option) *IntSlider {
	if max < min {
		min, max = max, min
	}
	s := &IntSlider{}
	coerce := map[string]func(any) (any, error){
		"value": func(v any) (any, error) {
			n, err := toInt(v)
			if err != nil {
				return nil, err
			}
			return s.clamp(n), nil
		},
		"step": func(v any) (any, error) {
			f, err := toFloat(v)
			if err != nil {
				return nil, err
			}
			return int(math.Max(1, math.Round(f))), nil
		},
		"continuous_update": func(v any) (any, error) { return toBool(v) },
	}
	s.m = newControl("IntSliderModel", map[string]any{
		"description": description, "min": min, "max": max, "value": clampInt(value, min, max), "step": 1,
		"behavior": "drag-tap", "continuous_update": true, "description_allow_html": false, "disabled": false,
		"orientation": "horizontal", "readout": true, "readout_format": "d", "tabbable": nil, "tooltip": nil,
	}, "SliderStyleModel", opts, coerce)
	s.m.text = func() string {
		return fmt.Sprintf("IntSlider(value=%d, min=%d, max=%d, description=%s)", s.Value(), s.m.Get("min"), s.m.Get("max"), strconv.Quote(fmt.Sprint(s.m.Get("description"))))
	}
	return s
}

func (s *IntSlider) clamp(n int) int {
	if s.m == nil { // options are converted before the model exists; the constructor clamps
		return n
	}
	lo, _ := s.m.Get("min").(int)
	hi, _ := s.m.Get("max").(int)
	return clampInt(n, lo, hi)
}

func clampInt(n, lo, hi int) int {
	if n < lo {
		return lo
	}
	if n > hi {
		return hi
	}
	return n
}

// Model is the slider's model.
func (s *IntSlider) Model() *Model { return s.m }

// DisplayBundle shows the slider.
func (s *IntSlider) DisplayBundle() display.Bundle { return s.m.DisplayBundle() }

// String is the slider's text form.
func (s *IntSlider) String() string { return s.m.String() }

// Value is the slider's value.
func (s *IntSlider) Value() int { v, _ := s.m.Get("value").(int); return v }

// Set moves the slider to v (clamped to min..max): the front end follows and the
// OnChange functions run if the value changed.
func (s *IntSlider) Set(v int) { s.m.Set("value", s.clamp(v)) }

// OnChange calls f with the new value whenever it changes (the user moved the
// slider, or Set).
func (s *IntSlider) OnChange(f func(v int)) {
	s.m.Observe("value", func(v any) { n, _ := v.(int); f(n) })
}

// FloatSlider is a slider over float64 values (FloatSliderModel).
type FloatSlider struct{ m *Model }

// NewFloatSlider returns a slider from min to max at value (clamped), step
// (max-min)/100 unless Step says otherwise.
func NewFloatSlider(description string, min, max, value float64, opts ...Option) *FloatSlider {
	if max < min {
		min, max = max, min
	}
	s := &FloatSlider{}
	coerce := map[string]func(any) (any, error){
		"value": func(v any) (any, error) {
			f, err := toFloat(v)
			if err != nil {
				return nil, err
			}
			return s.clamp(f), nil
		},
		"step": func(v any) (any, error) {
			f, err := toFloat(v)
			if err == nil && f <= 0 {
				err = fmt.Errorf("step %v is not positive", f)
			}
			return f, err
		},
		"continuous_update": func(v any) (any, error) { return toBool(v) },
	}
	step := (max - min) / 100
	if step == 0 {
		step = 0.1
	}
	s.m = newControl("FloatSliderModel", map[string]any{
		"description": description, "min": min, "max": max, "value": math.Min(max, math.Max(min, value)), "step": step,
		"behavior": "drag-tap", "continuous_update": true, "description_allow_html": false, "disabled": false,
		"orientation": "horizontal", "readout": true, "readout_format": ".2f", "tabbable": nil, "tooltip": nil,
	}, "SliderStyleModel", opts, coerce)
	s.m.text = func() string {
		return fmt.Sprintf("FloatSlider(value=%g, min=%g, max=%g, description=%s)", s.Value(), s.m.Get("min"), s.m.Get("max"), strconv.Quote(fmt.Sprint(s.m.Get("description"))))
	}
	return s
}

func (s *FloatSlider) clamp(f float64) float64 {
	if s.m == nil {
		return f
	}
	lo, _ := s.m.Get("min").(float64)
	hi, _ := s.m.Get("max").(float64)
	return math.Min(hi, math.Max(lo, f))
}

// Model is the slider's model.
func (s *FloatSlider) Model() *Model { return s.m }

// DisplayBundle shows the slider.
func (s *FloatSlider) DisplayBundle() display.Bundle { return s.m.DisplayBundle() }

// String is the slider's text form.
func (s *FloatSlider) String() string { return s.m.String() }

// Value is the slider's value.
func (s *FloatSlider) Value() float64 { v, _ := s.m.Get("value").(float64); return v }

// Set moves the slider to v (clamped): the front end follows and OnChange runs if
// the value changed.
func (s *FloatSlider) Set(v float64) { s.m.Set("value", s.clamp(v)) }

// OnChange calls f with the new value whenever it changes.
func (s *FloatSlider) OnChange(f func(v float64)) {
	s.m.Observe("value", func(v any) { x, _ := v.(float64); f(x) })
}

// Dropdown picks one of a list of labels (DropdownModel; the front end syncs the
// index).
type Dropdown struct {
	m      *Model
	labels []string
}

// NewDropdown returns a dropdown of options with value selected (the first option
// when value is not one of them).
func NewDropdown(description string, options []string, value string, opts ...Option) *Dropdown {
	d := &Dropdown{labels: append([]string{}, options...)}
	index := any(nil)
	if len(options) > 0 {
		index = 0
	}
	for i, o := range options {
		if o == value {
			index = i
			break
		}
	}
	coerce := map[string]func(any) (any, error){
		"index": func(v any) (any, error) {
			if v == nil {
				return nil, nil
			}
			i, err := toInt(v)
			if err == nil && (i < 0 || i >= len(d.labels)) {
				err = fmt.Errorf("index %d is not in 0..%d", i, len(d.labels)-1)
			}
			return i, err
		},
	}
	d.m = newControl("DropdownModel", map[string]any{
		"description": description, "_options_labels": d.labels, "index": index,
		"description_allow_html": false, "disabled": false, "tabbable": nil, "tooltip": nil,
	}, "DescriptionStyleModel", opts, coerce)
	d.m.text = func() string {
		return fmt.Sprintf("Dropdown(value=%s, options=%q, description=%s)", strconv.Quote(d.Value()), d.labels, strconv.Quote(fmt.Sprint(d.m.Get("description"))))
	}
	return d
}

// Model is the dropdown's model.
func (d *Dropdown) Model() *Model { return d.m }

// DisplayBundle shows the dropdown.
func (d *Dropdown) DisplayBundle() display.Bundle { return d.m.DisplayBundle() }

// String is the dropdown's text form.
func (d *Dropdown) String() string { return d.m.String() }

// Index is the selected option's index (-1: none).
func (d *Dropdown) Index() int {
	i, ok := d.m.Get("index").(int)
	if !ok {
		return -1
	}
	return i
}

// Value is the selected label ("" when none is).
func (d *Dropdown) Value() string {
	if i := d.Index(); i >= 0 && i < len(d.labels) {
		return d.labels[i]
	}
	return ""
}

// Set selects the option labelled v; a label that is not an option is an error.
func (d *Dropdown) Set(v string) error {
	for i, o := range d.labels {
		if o == v {
			d.m.Set("index", i)
			return nil
		}
	}
	return fmt.Errorf("dropdown: %q is not one of the options %q", v, d.labels)
}

// OnChange calls f with the selected label whenever the selection changes.
func (d *Dropdown) OnChange(f func(v string)) {
	d.m.Observe("index", func(any) { f(d.Value()) })
}

// Button is a push button (ButtonModel).
type Button struct {
	m       *Model
	mu      sync.Mutex
	onClick []func()
}

// NewButton returns a button labelled description. ButtonStyle sets its colour.
func NewButton(description string, opts ...Option) *Button {
	b := &Button{}
	b.m = newControl("ButtonModel", map[string]any{
		"description": description, "button_style": "", "disabled": false, "icon": "", "tabbable": nil, "tooltip": nil,
	}, "ButtonStyleModel", opts, map[string]func(any) (any, error){})
	b.m.text = func() string {
		return fmt.Sprintf("Button(description=%s)", strconv.Quote(fmt.Sprint(b.m.Get("description"))))
	}
	b.m.mu.Lock()
	b.m.custom = func(content map[string]any) error {
		if content["event"] != "click" {
			return fmt.Errorf("button: unknown event %v", content["event"])
		}
		b.Click()
		return nil
	}
	b.m.mu.Unlock()
	return b
}

// ButtonStyle is a button's predefined style: "primary", "success", "info",
// "warning", "danger" or "".
func ButtonStyle(s string) Option { return Attr("button_style", s) }

// Model is the button's model.
func (b *Button) Model() *Model { return b.m }

// DisplayBundle shows the button.
func (b *Button) DisplayBundle() display.Bundle { return b.m.DisplayBundle() }

// String is the button's text form.
func (b *Button) String() string { return b.m.String() }

// OnClick calls f when the button is clicked.
func (b *Button) OnClick(f func()) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.onClick = append(b.onClick, f)
}

// Click runs the OnClick functions, as a click in the front end does.
func (b *Button) Click() {
	b.mu.Lock()
	fs := append([]func(){}, b.onClick...)
	b.mu.Unlock()
	for _, f := range fs {
		f()
	}
}

// Text is a one-line text field (TextModel).
type Text struct {
	m        *Model
	mu       sync.Mutex
	onSubmit []func(string)
}

// NewText returns a text field holding value. Attr("placeholder", "…") sets the
// grey text shown while it is empty.
func NewText(description, value string, opts ...Option) *Text {
	t := &Text{}
	coerce := map[string]func(any) (any, error){
		"value":             func(v any) (any, error) { return toString(v) },
		"continuous_update": func(v any) (any, error) { return toBool(v) },
	}
	t.m = newControl("TextModel", map[string]any{
		"description": description, "value": value, "placeholder": "\u200b", "continuous_update": true,
		"description_allow_html": false, "disabled": false, "tabbable": nil, "tooltip": nil,
	}, "TextStyleModel", opts, coerce)
	t.m.text = func() string {
		return fmt.Sprintf("Text(value=%s, description=%s)", strconv.Quote(t.Value()), strconv.Quote(fmt.Sprint(t.m.Get("description"))))
	}
	t.m.mu.Lock()
	t.m.custom = func(content map[string]any) error {
		if content["event"] != "submit" {
			return fmt.Errorf("text: unknown event %v", content["event"])
		}
		t.mu.Lock()
		fs := append([]func(string){}, t.onSubmit...)
		t.mu.Unlock()
		for _, f := range fs {
			f(t.Value())
		}
		return nil
	}
	t.m.mu.Unlock()
	return t
}

// Model is the text field's model.
func (t *Text) Model() *Model { return t.m }

// DisplayBundle shows the text field.
func (t *Text) DisplayBundle() display.Bundle { return t.m.DisplayBundle() }

// String is the text field's text form.
func (t *Text) String() string { return t.m.String() }

// Value is the text.
func (t *Text) Value() string { v, _ := t.m.Get("value").(string); return v }

// Set replaces the text.
func (t *Text) Set(v string) { t.m.Set("value", v) }

// OnChange calls f with the text whenever it changes (every key unless
// ContinuousUpdate(false)).
func (t *Text) OnChange(f func(v string)) {
	t.m.Observe("value", func(v any) { s, _ := v.(string); f(s) })
}

// OnSubmit calls f with the text when the user presses Enter in the field.
func (t *Text) OnSubmit(f func(v string)) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.onSubmit = append(t.onSubmit, f)
}

// Box lays out widgets in a row (HBox) or a column (VBox).
type Box struct {
	m        *Model
	children []Widget
}

// HBox shows children side by side.
func HBox(children ...Widget) *Box { return newBox("HBoxModel", children) }

// VBox shows children one above the other.
func VBox(children ...Widget) *Box { return newBox("VBoxModel", children) }

func newBox(name string, children []Widget) *Box {
	b := &Box{children: append([]Widget{}, children...)}
	refs := make([]string, len(children))
	for i, c := range children {
		refs[i] = ref(c.Model())
	}
	b.m = newControl(name, map[string]any{"children": refs, "box_style": "", "tabbable": nil, "tooltip": nil},
		"", nil, map[string]func(any) (any, error){})
	b.m.text = func() string {
		parts := make([]string, len(b.children))
		for i, c := range b.children {
			parts[i] = c.Model().String()
		}
		return strings.TrimSuffix(name, "Model") + "(" + strings.Join(parts, ", ") + ")"
	}
	return b
}

// Model is the box's model.
func (b *Box) Model() *Model { return b.m }

// DisplayBundle shows the box and its children.
func (b *Box) DisplayBundle() display.Bundle { return b.m.DisplayBundle() }

// String is the box's text form: its children's.
func (b *Box) String() string { return b.m.String() }

// Children are the widgets in the box.
func (b *Box) Children() []Widget { return append([]Widget{}, b.children...) }

// Output is an output area inside a widget (OutputModel of @jupyter-widgets/output):
// what a function run by Capture prints or displays goes there instead of to the
// cell (or, in a callback, the log console).
type Output struct{ m *Model }

// NewOutput returns an empty Output widget.
func NewOutput(opts ...Option) *Output {
	o := &Output{}
	o.m = newControl("OutputModel", map[string]any{"msg_id": "", "outputs": []any{}, "tabbable": nil, "tooltip": nil},
		"", opts, map[string]func(any) (any, error){
			// The front end keeps the outputs it captured in the model.
			"outputs": func(v any) (any, error) {
				if _, ok := v.([]any); !ok {
					return nil, fmt.Errorf("%v (%T) is not a list of outputs", v, v)
				}
				return v, nil
			},
		})
	o.m.text = func() string { return "Output()" }
	return o
}

// Model is the Output widget's model.
func (o *Output) Model() *Model { return o.m }

// DisplayBundle shows the output area.
func (o *Output) DisplayBundle() display.Bundle { return o.m.DisplayBundle() }

// String is the Output widget's text form.
func (o *Output) String() string { return o.m.String() }

// Capture runs f with the output it publishes (fmt.Print, display.*) going to this
// widget: the widget's msg_id is the id of the request running now (a cell, or the
// comm_msg whose callback runs), which tells the front end to put what comes under
// that id here, and is put back when f returns (or panics), so Captures nest.
func (o *Output) Capture(f func()) {
	parent := display.OutputParentID()
	if parent == "" {
		f()
		return
	}
	prev, _ := o.m.Get("msg_id").(string)
	o.m.Set("msg_id", parent)
	defer o.m.Set("msg_id", prev)
	f()
}

// Clear empties the output area.
func (o *Output) Clear() { o.Capture(display.ClearOutput) }
