// Package widgets is ipywidgets from Go: the models of @jupyter-widgets/controls 2.0.0
// (IntSlider, FloatSlider, Dropdown, Button, Text, HBox, VBox, with their Layout and
// Style models) and @jupyter-widgets/output 1.0.0 (Output), kept in sync with
// JupyterLab's own widget front end (the jupyterlab_widgets package, no extension of
// golem's) over the "jupyter.widget" comm target of the widget message protocol
// 2.1.0.
//
//	topK := widgets.NewIntSlider("top-k", 1, 100, 40)
//	out := widgets.NewOutput()
//	topK.OnChange(func(k int) { out.Capture(func() { fmt.Println("top-k is now", k) }) })
//	widgets.VBox(topK, out) // the cell's result: the widgets, live
//
// A widget is a Model (its state, synced both ways) wrapped in a typed value with Go
// callbacks (OnChange, OnClick). The kernel runs callbacks when the front end's
// comm_msg arrives on the shell channel, between cells, as a short cell whose output
// goes to the log console unless an Output widget captures it (Output.Capture).
// Set from Go sends an update to the front end and calls the callbacks too, as
// ipywidgets' observers are called. A widget displays as
// application/vnd.jupyter.widget-view+json with a text/plain fallback (what papermill
// and nbconvert keep). Outside a kernel the widgets work as plain values: Set and the
// callbacks run, nothing is sent.
package widgets

import (
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"sort"
	"strings"
	"sync"

	"github.com/golem-lm/golem/display"
)

// The widget message protocol and the front-end modules the models belong to.
const (
	Target          = "jupyter.widget"         // comm target of widget models
	ControlTarget   = "jupyter.widget.control" // comm target the front end asks every state on
	ProtocolVersion = "2.1.0"                  // the widget message protocol (comm_open metadata)
	ViewMIME        = "application/vnd.jupyter.widget-view+json"

	ControlsModule  = "@jupyter-widgets/controls"
	ControlsVersion = "2.0.0"
	BaseModule      = "@jupyter-widgets/base"
	BaseVersion     = "2.0.0"
	OutputModule    = "@jupyter-widgets/output"
	OutputVersion   = "1.0.0"
)

// Widget is anything shown as a widget: the typed widgets of this package.
type Widget interface {
	Model() *Model
}

// Model is one widget model: its state, the comm that syncs it with the front end,
// and the functions called when an attribute changes. Use it for what the typed
// widgets do not name (Set("readout", false), Layout().Set("width", "400px")).
type Model struct {
	comm *display.Comm

	mu        sync.Mutex
	state     map[string]any
	coerce    map[string]func(any) (any, error) // attributes the front end may set, and their conversion
	observers map[string][]func(any)
	custom    func(content map[string]any) error
	layout    *Model
	style     *Model
	text      func() string
}

// spec is what the options of a constructor change before the model is opened.
type spec struct {
	state, layout, style map[string]any
}

// Option changes a widget's attributes at construction.
type Option func(*spec)

// Attr sets any attribute of the widget's model (see the @jupyter-widgets/controls
// 2.0.0 model list), e.g. Attr("readout", false).
func Attr(name string, v any) Option { return func(s *spec) { s.state[name] = v } }

// Step sets a slider's step (an IntSlider rounds it).
func Step(v float64) Option { return Attr("step", v) }

// ContinuousUpdate(false) makes a slider or text send its value once the user lets
// go (or presses Enter), not while dragging or typing.
func ContinuousUpdate(on bool) Option { return Attr("continuous_update", on) }

// Disabled greys the widget out.
func Disabled(on bool) Option { return Attr("disabled", on) }

// Tooltip sets the widget's tooltip.
func Tooltip(s string) Option { return Attr("tooltip", s) }

// Width sets the layout's CSS width ("300px", "50%").
func Width(css string) Option { return func(s *spec) { s.layout["width"] = css } }

// DescriptionWidth sets the width of the description label ("initial": as wide as
// the text).
func DescriptionWidth(css string) Option {
	return func(s *spec) { s.style["description_width"] = css }
}

// ref is how one model names another in its state.
func ref(m *Model) string { return "IPY_MODEL_" + m.ID() }

// newModel opens a model of the given names with state; a nil module means controls.
func newModel(name, view string, state map[string]any, module, version, viewModule, viewVersion string) *Model {
	full := map[string]any{
		"_model_name": name, "_model_module": module, "_model_module_version": version,
		"_view_name": nil, "_view_module": viewModule, "_view_module_version": viewVersion,
	}
	if view != "" {
		full["_view_name"] = view
	}
	for k, v := range state {
		full[k] = v
	}
	m := &Model{state: full, coerce: map[string]func(any) (any, error){}, observers: map[string][]func(any){}}
	m.comm = display.OpenComm(Target, map[string]any{"state": jsonState(full), "buffer_paths": []any{}},
		map[string]any{"version": ProtocolVersion})
	m.comm.OnMsg(m.handle)
	register(m)
	return m
}

// newControl opens a control's Layout model, its style model (styleName "" for none)
// and then the control itself, referencing them.
func newControl(name string, state map[string]any, styleName string, opts []Option, coerce map[string]func(any) (any, error)) *Model {
	s := &spec{state: map[string]any{}, layout: map[string]any{}, style: map[string]any{}}
	for k, v := range state {
		s.state[k] = v
	}
	for _, o := range opts {
		o(s)
	}
	layout := newModel("LayoutModel", "LayoutView", s.layout, BaseModule, BaseVersion, BaseModule, BaseVersion)
	layout.acceptAll()
	var style *Model
	if styleName != "" {
		style = newModel(styleName, "StyleView", s.style, ControlsModule, ControlsVersion, BaseModule, BaseVersion)
		style.acceptAll()
	}
	s.state["layout"] = ref(layout)
	if style != nil {
		s.state["style"] = ref(style)
	}
	if _, ok := s.state["_dom_classes"]; !ok {
		s.state["_dom_classes"] = []string{}
	}
	module, version := ControlsModule, ControlsVersion
	if name == "OutputModel" {
		module, version = OutputModule, OutputVersion
	}
	// The front end may set the attributes the widget converts, and these generic ones.
	for _, k := range []string{"disabled", "description", "tooltip", "_dom_classes", "tabbable"} {
		if _, ok := coerce[k]; !ok {
			coerce[k] = sameKind(k)
		}
	}
	s.state = coerceOptions(s.state, coerce)
	m := newModel(name, strings.TrimSuffix(name, "Model")+"View", s.state, module, version, module, version)
	m.layout, m.style = layout, style
	m.mu.Lock()
	m.coerce = coerce
	m.mu.Unlock()
	return m
}

// coerceOptions converts option values the way front-end values are (a Step of an
// IntSlider becomes an int), keeping those that do not convert as they are.
func coerceOptions(state map[string]any, coerce map[string]func(any) (any, error)) map[string]any {
	for k, v := range state {
		if c := coerce[k]; c != nil { // sameKind (nil) keeps the option as given
			if cv, err := c(jsonValue(v)); err == nil {
				state[k] = cv
			}
		}
	}
	return state
}

// acceptAll lets the front end set any attribute the model has (Layout and Style
// models hold CSS strings).
func (m *Model) acceptAll() {
	m.mu.Lock()
	defer m.mu.Unlock()
	for k := range m.state {
		if !strings.HasPrefix(k, "_") {
			m.coerce[k] = sameKind(k)
		}
	}
}

// ID is the model's id (its comm id), what a widget-view output names.
func (m *Model) ID() string { return m.comm.ID() }

// Model returns m itself, so a Model is a Widget.
func (m *Model) Model() *Model { return m }

// Layout is the widget's Layout model (nil for Layout and Style models).
func (m *Model) Layout() *Model { return m.layout }

// Style is the widget's style model (nil when it has none).
func (m *Model) Style() *Model { return m.style }

// Get returns the value of an attribute (nil when there is none).
func (m *Model) Get(name string) any {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.state[name]
}

// State returns a copy of the whole state, as the front end receives it.
func (m *Model) State() map[string]any {
	m.mu.Lock()
	defer m.mu.Unlock()
	return jsonState(m.state)
}

// Set changes attributes from Go (name, value, name, value, …): for the values that
// changed, the front end gets an update and the attributes' observers (OnChange) are
// called. A name that is not a string, or an odd count, panics.
func (m *Model) Set(nameValues ...any) {
	if len(nameValues)%2 != 0 {
		panic("widgets: Model.Set takes name, value pairs")
	}
	changes := map[string]any{}
	for i := 0; i < len(nameValues); i += 2 {
		name, ok := nameValues[i].(string)
		if !ok {
			panic(fmt.Sprintf("widgets: Model.Set: attribute name %v is not a string", nameValues[i]))
		}
		changes[name] = nameValues[i+1]
	}
	m.apply(changes, "update")
}

// apply stores changes, sends them (method "update" or "echo_update") and calls the
// observers of the attributes whose value changed.
func (m *Model) apply(changes map[string]any, method string) {
	m.mu.Lock()
	var changed []string
	for k, v := range changes {
		if !reflect.DeepEqual(jsonValue(m.state[k]), jsonValue(v)) {
			changed = append(changed, k)
		}
		m.state[k] = v
	}
	m.mu.Unlock()
	send := changes
	if method == "update" { // from Go: what changed (echo_update echoes all the front end sent)
		send = map[string]any{}
		for _, k := range changed {
			send[k] = changes[k]
		}
	}
	if len(send) > 0 {
		m.comm.Send(map[string]any{"method": method, "state": jsonState(send), "buffer_paths": []any{}}, nil)
	}
	sort.Strings(changed)
	for _, k := range changed {
		m.mu.Lock()
		obs := append([]func(any){}, m.observers[k]...)
		v := m.state[k]
		m.mu.Unlock()
		for _, f := range obs {
			f(v)
		}
	}
}

// Observe calls f with the new value whenever the attribute changes, from the front
// end or from Set.
func (m *Model) Observe(name string, f func(v any)) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.observers[name] = append(m.observers[name], f)
}

// Close closes the model and its Layout and Style models: the front end removes its
// views.
func (m *Model) Close() {
	forget(m)
	m.comm.Close()
	if m.layout != nil {
		m.layout.Close()
	}
	if m.style != nil {
		m.style.Close()
	}
}

// DisplayBundle shows the widget: the widget-view MIME type for front ends with the
// widget manager, text/plain for the others.
func (m *Model) DisplayBundle() display.Bundle {
	return display.Bundle{
		ViewMIME:     map[string]any{"model_id": m.ID(), "version_major": 2, "version_minor": 0},
		"text/plain": m.String(),
	}
}

// String is the text/plain form: the model's name and its main attributes.
func (m *Model) String() string {
	if m.text != nil {
		return m.text()
	}
	return strings.TrimSuffix(fmt.Sprint(m.Get("_model_name")), "Model") + "()"
}

// handle serves a comm_msg from the front end (the widget message protocol).
func (m *Model) handle(data map[string]any) error {
	method, _ := data["method"].(string)
	switch method {
	case "update":
		state, ok := data["state"].(map[string]any)
		if !ok {
			return fmt.Errorf("%s: update without a state object", m)
		}
		if bp, ok := data["buffer_paths"].([]any); ok && len(bp) > 0 {
			return fmt.Errorf("%s: update with binary buffers (%v): no golem widget has binary attributes", m, bp)
		}
		changes, err := m.accept(state)
		if err != nil {
			m.resync(state)
			return err
		}
		m.apply(changes, "echo_update")
		return nil
	case "request_state":
		m.comm.Send(map[string]any{"method": "update", "state": m.State(), "buffer_paths": []any{}}, nil)
		return nil
	case "custom":
		content, _ := data["content"].(map[string]any)
		m.mu.Lock()
		f := m.custom
		m.mu.Unlock()
		if f == nil {
			return fmt.Errorf("%s: custom message %v not understood", m, content)
		}
		return f(content)
	default:
		return fmt.Errorf("%s: unknown widget message method %q (want update, request_state or custom)", m, method)
	}
}

// accept converts a front end's state update, refusing it whole when one attribute
// cannot be set or its value does not fit.
func (m *Model) accept(state map[string]any) (map[string]any, error) {
	keys := make([]string, 0, len(state))
	for k := range state {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	// The conversions may read the model (a slider's min and max): no lock while they run.
	m.mu.Lock()
	name := m.describe()
	coerce := make(map[string]func(any) (any, error), len(keys))
	known := map[string]bool{}
	have := map[string]string{}
	for _, k := range keys {
		c, ok := m.coerce[k]
		coerce[k], known[k], have[k] = c, ok, jsonKind(jsonValue(m.state[k]))
	}
	m.mu.Unlock()
	out := map[string]any{}
	for _, k := range keys {
		if !known[k] {
			return nil, fmt.Errorf("%s: the front end may not set %q", name, k)
		}
		if coerce[k] == nil { // sameKind
			got := jsonKind(state[k])
			if have[k] != got && have[k] != "null" && got != "null" {
				return nil, fmt.Errorf("%s: bad %s from the front end: a %s, want a %s", name, k, got, have[k])
			}
			out[k] = state[k]
			continue
		}
		v, err := coerce[k](state[k])
		if err != nil {
			return nil, fmt.Errorf("%s: bad %s from the front end: %w", name, k, err)
		}
		out[k] = v
	}
	return out, nil
}

// describe names the model for errors; m.mu is held.
func (m *Model) describe() string {
	return strings.TrimSuffix(fmt.Sprint(m.state["_model_name"]), "Model") + " " + m.comm.ID()
}

// resync sends the kernel's values of the attributes a refused update named, so the
// front end shows what the kernel holds.
func (m *Model) resync(state map[string]any) {
	m.mu.Lock()
	back := map[string]any{}
	for k := range state {
		if v, ok := m.state[k]; ok {
			back[k] = v
		}
	}
	m.mu.Unlock()
	if len(back) > 0 {
		m.comm.Send(map[string]any{"method": "update", "state": jsonState(back), "buffer_paths": []any{}}, nil)
	}
}

// jsonValue is v as encoding/json decodes it (numbers float64), for comparisons.
func jsonValue(v any) any {
	b, err := json.Marshal(v)
	if err != nil {
		return v
	}
	var out any
	if json.Unmarshal(b, &out) != nil {
		return v
	}
	return out
}

// jsonState is a copy of a state in its JSON form.
func jsonState(s map[string]any) map[string]any {
	out := make(map[string]any, len(s))
	for k, v := range s {
		out[k] = jsonValue(v)
	}
	return out
}

// sameKind marks an attribute the front end may set to a value of the same JSON
// kind as the one it holds (null, or any kind while it holds null); accept checks it.
func sameKind(string) func(any) (any, error) { return nil }

// jsonKind names the JSON kind of a decoded value.
func jsonKind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case float64:
		return "number"
	case string:
		return "string"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return fmt.Sprintf("%T", v)
}

func toInt(v any) (int, error) {
	f, ok := v.(float64)
	if !ok {
		return 0, fmt.Errorf("%v (%T) is not a number", v, v)
	}
	if f != math.Trunc(f) || math.IsInf(f, 0) || math.Abs(f) > 1<<53 {
		return 0, fmt.Errorf("%v is not an integer", f)
	}
	return int(f), nil
}

func toFloat(v any) (float64, error) {
	f, ok := v.(float64)
	if !ok || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, fmt.Errorf("%v (%T) is not a finite number", v, v)
	}
	return f, nil
}

func toString(v any) (string, error) {
	s, ok := v.(string)
	if !ok {
		return "", fmt.Errorf("%v (%T) is not a string", v, v)
	}
	return s, nil
}

func toBool(v any) (bool, error) {
	b, ok := v.(bool)
	if !ok {
		return false, fmt.Errorf("%v (%T) is not a boolean", v, v)
	}
	return b, nil
}

// models are the open widget models by id, for the control comm.
var (
	modelsMu sync.Mutex
	models   = map[string]*Model{}
)

func register(m *Model) {
	modelsMu.Lock()
	models[m.ID()] = m
	modelsMu.Unlock()
	m.comm.OnClose(func(map[string]any) { forget(m) })
}

func forget(m *Model) {
	modelsMu.Lock()
	delete(models, m.ID())
	modelsMu.Unlock()
}

// The front end (JupyterLab's widget manager, on a page reload) opens a comm on
// "jupyter.widget.control" and asks it for every model's state at once.
func init() {
	display.RegisterCommTarget(ControlTarget, func(c *display.Comm, _ map[string]any) error {
		c.OnMsg(func(data map[string]any) error {
			if data["method"] != "request_states" {
				return fmt.Errorf("widget control comm: unknown method %v (want request_states)", data["method"])
			}
			c.Send(map[string]any{"method": "update_states", "states": States(), "buffer_paths": []any{}}, nil)
			return nil
		})
		return nil
	})
}

// States is every open model's state as the control comm's update_states message
// gives it: model id to model_name, model_module, model_module_version and state.
func States() map[string]any {
	modelsMu.Lock()
	all := make([]*Model, 0, len(models))
	for _, m := range models {
		all = append(all, m)
	}
	modelsMu.Unlock()
	out := make(map[string]any, len(all))
	for _, m := range all {
		st := m.State()
		out[m.ID()] = map[string]any{
			"model_name": st["_model_name"], "model_module": st["_model_module"],
			"model_module_version": st["_model_module_version"], "state": st,
		}
	}
	return out
}
