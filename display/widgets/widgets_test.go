package widgets

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/golem-lm/golem/display"
)

// sent is one comm message the recording publisher received.
type sent struct {
	kind, id, target string
	data, metadata   map[string]any
}

// recorder is a display.Publisher and display.CommPublisher that records what a
// kernel would send, as JSON would carry it.
type recorder struct {
	mu     sync.Mutex
	msgs   []sent
	parent string
	shown  []display.Bundle
}

func roundTrip(m map[string]any) map[string]any {
	b, err := json.Marshal(m)
	if err != nil {
		panic(err)
	}
	var out map[string]any
	if err := json.Unmarshal(b, &out); err != nil {
		panic(err)
	}
	return out
}

func (r *recorder) Display(data display.Bundle, _ map[string]any, _ string, _ bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.shown = append(r.shown, data)
}
func (r *recorder) ClearOutput(bool) {}
func (r *recorder) CommOpen(id, target string, data, metadata map[string]any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.msgs = append(r.msgs, sent{"open", id, target, roundTrip(data), roundTrip(metadata)})
}
func (r *recorder) CommMsg(id string, data, metadata map[string]any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.msgs = append(r.msgs, sent{"msg", id, "", roundTrip(data), nil})
}
func (r *recorder) CommClose(id string, data map[string]any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.msgs = append(r.msgs, sent{"close", id, "", data, nil})
}
func (r *recorder) OutputParentID() string { return r.parent }

// take returns and forgets what was sent.
func (r *recorder) take() []sent {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.msgs
	r.msgs = nil
	return out
}

func install(t *testing.T) *recorder {
	t.Helper()
	r := &recorder{}
	old := display.SetPublisher(r)
	t.Cleanup(func() { display.SetPublisher(old) })
	return r
}

// fromFrontend is a comm_msg's data as the kernel decodes it from JSON.
func fromFrontend(t *testing.T, s string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestIntSliderOpensLayoutStyleAndModel(t *testing.T) {
	r := install(t)
	s := NewIntSlider("top-k", 1, 100, 40, ContinuousUpdate(false), Width("400px"))
	msgs := r.take()
	if len(msgs) != 3 {
		t.Fatalf("want comm_open of layout, style, slider; got %d messages: %+v", len(msgs), msgs)
	}
	wantModels := []struct{ name, module, version, view, viewModule string }{
		{"LayoutModel", "@jupyter-widgets/base", "2.0.0", "LayoutView", "@jupyter-widgets/base"},
		{"SliderStyleModel", "@jupyter-widgets/controls", "2.0.0", "StyleView", "@jupyter-widgets/base"},
		{"IntSliderModel", "@jupyter-widgets/controls", "2.0.0", "IntSliderView", "@jupyter-widgets/controls"},
	}
	for i, w := range wantModels {
		m := msgs[i]
		if m.kind != "open" || m.target != "jupyter.widget" {
			t.Fatalf("message %d: %s on %q, want open on jupyter.widget", i, m.kind, m.target)
		}
		if m.metadata["version"] != "2.1.0" {
			t.Errorf("%s: metadata %v, want version 2.1.0", w.name, m.metadata)
		}
		if bp, ok := m.data["buffer_paths"].([]any); !ok || len(bp) != 0 {
			t.Errorf("%s: buffer_paths %v, want []", w.name, m.data["buffer_paths"])
		}
		st := m.data["state"].(map[string]any)
		got := []any{st["_model_name"], st["_model_module"], st["_model_module_version"], st["_view_name"], st["_view_module"], st["_view_module_version"]}
		want := []any{w.name, w.module, w.version, w.view, w.viewModule, "2.0.0"}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("model %d: names %v, want %v", i, got, want)
		}
	}
	layoutID, styleID := msgs[0].id, msgs[1].id
	st := msgs[2].data["state"].(map[string]any)
	if msgs[2].id != s.Model().ID() {
		t.Errorf("slider comm id %s, model id %s", msgs[2].id, s.Model().ID())
	}
	for k, v := range map[string]any{
		"value": 40.0, "min": 1.0, "max": 100.0, "step": 1.0, "description": "top-k", "continuous_update": false,
		"layout": "IPY_MODEL_" + layoutID, "style": "IPY_MODEL_" + styleID, "orientation": "horizontal", "readout_format": "d",
	} {
		if st[k] != v {
			t.Errorf("state[%q] = %v, want %v", k, st[k], v)
		}
	}
	if w := msgs[0].data["state"].(map[string]any)["width"]; w != "400px" {
		t.Errorf("layout width %v, want 400px", w)
	}
	b := s.DisplayBundle()
	view, _ := json.Marshal(b[ViewMIME])
	if string(view) != fmt.Sprintf(`{"model_id":"%s","version_major":2,"version_minor":0}`, s.Model().ID()) {
		t.Errorf("widget view %s", view)
	}
	if b["text/plain"] != `IntSlider(value=40, min=1, max=100, description="top-k")` {
		t.Errorf("text/plain %q", b["text/plain"])
	}
}

func TestUpdateFromFrontendEchoesAndCallsBack(t *testing.T) {
	r := install(t)
	s := NewIntSlider("k", 0, 10, 3)
	r.take()
	var got []int
	s.OnChange(func(v int) { got = append(got, v) })
	if err := display.DeliverComm(s.Model().ID(), fromFrontend(t, `{"method":"update","state":{"value":7},"buffer_paths":[]}`)); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, []int{7}) || s.Value() != 7 {
		t.Fatalf("callback saw %v, value %d; want [7], 7", got, s.Value())
	}
	msgs := r.take()
	if len(msgs) != 1 || msgs[0].data["method"] != "echo_update" || msgs[0].data["state"].(map[string]any)["value"] != 7.0 {
		t.Fatalf("want one echo_update of value 7, got %+v", msgs)
	}
	// Out of range: clamped, as ipywidgets does.
	if err := display.DeliverComm(s.Model().ID(), fromFrontend(t, `{"method":"update","state":{"value":99}}`)); err != nil {
		t.Fatal(err)
	}
	if s.Value() != 10 {
		t.Errorf("value %d after 99, want 10 (max)", s.Value())
	}
	// The same value again: echoed, no callback.
	r.take()
	display.DeliverComm(s.Model().ID(), fromFrontend(t, `{"method":"update","state":{"value":10}}`))
	if !reflect.DeepEqual(got, []int{7, 10}) {
		t.Errorf("callbacks %v, want [7 10]", got)
	}
}

func TestSetFromGoSendsUpdateAndCallsBack(t *testing.T) {
	r := install(t)
	s := NewFloatSlider("temperature", 0.1, 2, 0.8)
	r.take()
	var got []float64
	s.OnChange(func(v float64) { got = append(got, v) })
	s.Set(1.25)
	msgs := r.take()
	if len(msgs) != 1 || msgs[0].data["method"] != "update" || msgs[0].data["state"].(map[string]any)["value"] != 1.25 {
		t.Fatalf("want an update of value 1.25, got %+v", msgs)
	}
	s.Set(5) // clamped to max
	if s.Value() != 2 || !reflect.DeepEqual(got, []float64{1.25, 2}) {
		t.Errorf("value %v, callbacks %v", s.Value(), got)
	}
}

func TestBadValuesFromFrontendAreRefused(t *testing.T) {
	r := install(t)
	s := NewIntSlider("k", 0, 10, 3)
	d := NewDropdown("size", []string{"small", "large"}, "large")
	r.take()
	called := false
	s.OnChange(func(int) { called = true })
	for _, c := range []struct {
		id, data, want string
	}{
		{s.Model().ID(), `{"method":"update","state":{"value":"seven"}}`, "bad value"},
		{s.Model().ID(), `{"method":"update","state":{"value":2.5}}`, "not an integer"},
		{s.Model().ID(), `{"method":"update","state":{"value":4,"_model_name":"X"}}`, `may not set "_model_name"`},
		{s.Model().ID(), `{"method":"update","state":{"description":7}}`, "a number, want a string"},
		{s.Model().ID(), `{"method":"update"}`, "without a state"},
		{s.Model().ID(), `{"method":"explode"}`, "unknown widget message method"},
		{s.Model().ID(), `{"method":"custom","content":{"event":"click"}}`, "not understood"},
		{d.Model().ID(), `{"method":"update","state":{"index":5}}`, "not in 0..1"},
		{"no-such-comm", `{"method":"update","state":{"value":1}}`, "unknown comm"},
	} {
		err := display.DeliverComm(c.id, fromFrontend(t, c.data))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one containing %q", c.data, err, c.want)
		}
	}
	if called || s.Value() != 3 || d.Value() != "large" {
		t.Errorf("a refused update changed something: callback %v, value %d, dropdown %q", called, s.Value(), d.Value())
	}
	// A refused update is answered with the kernel's values, so the front end resyncs.
	var resync bool
	for _, m := range r.take() {
		if m.id == s.Model().ID() && m.data["method"] == "update" && m.data["state"].(map[string]any)["value"] == 3.0 {
			resync = true
		}
	}
	if !resync {
		t.Error("no update with the kept value after a refused one")
	}
	if !errors.Is(display.DeliverComm("no-such-comm", nil), display.ErrUnknownComm) {
		t.Error("unknown comm is not ErrUnknownComm")
	}
}

func TestRequestStateAndControlComm(t *testing.T) {
	r := install(t)
	s := NewText("name", "golem")
	r.take()
	display.DeliverComm(s.Model().ID(), fromFrontend(t, `{"method":"request_state"}`))
	msgs := r.take()
	if len(msgs) != 1 || msgs[0].data["method"] != "update" || msgs[0].data["state"].(map[string]any)["_model_name"] != "TextModel" || msgs[0].data["state"].(map[string]any)["value"] != "golem" {
		t.Fatalf("request_state answered %+v", msgs)
	}
	if err := display.OpenCommFromFrontend("ctl-1", ControlTarget, nil); err != nil {
		t.Fatal(err)
	}
	defer display.CloseCommFromFrontend("ctl-1", nil)
	if err := display.DeliverComm("ctl-1", fromFrontend(t, `{"method":"request_states"}`)); err != nil {
		t.Fatal(err)
	}
	msgs = r.take()
	if len(msgs) != 1 || msgs[0].id != "ctl-1" || msgs[0].data["method"] != "update_states" {
		t.Fatalf("control comm answered %+v", msgs)
	}
	st := msgs[0].data["states"].(map[string]any)[s.Model().ID()].(map[string]any)
	if st["model_name"] != "TextModel" || st["model_module"] != ControlsModule || st["state"].(map[string]any)["value"] != "golem" {
		t.Errorf("control state of the text: %v", st)
	}
	if err := display.DeliverComm("ctl-1", fromFrontend(t, `{"method":"nope"}`)); err == nil {
		t.Error("unknown control method accepted")
	}
}

func TestButtonTextDropdownCallbacks(t *testing.T) {
	install(t)
	b := NewButton("Generate", ButtonStyle("primary"))
	clicks := 0
	b.OnClick(func() { clicks++ })
	if err := display.DeliverComm(b.Model().ID(), fromFrontend(t, `{"method":"custom","content":{"event":"click"}}`)); err != nil {
		t.Fatal(err)
	}
	if clicks != 1 || b.Model().Get("button_style") != "primary" {
		t.Errorf("clicks %d, style %v", clicks, b.Model().Get("button_style"))
	}
	tx := NewText("prompt", "Light is")
	var typed, submitted []string
	tx.OnChange(func(s string) { typed = append(typed, s) })
	tx.OnSubmit(func(s string) { submitted = append(submitted, s) })
	display.DeliverComm(tx.Model().ID(), fromFrontend(t, `{"method":"update","state":{"value":"Light was"}}`))
	display.DeliverComm(tx.Model().ID(), fromFrontend(t, `{"method":"custom","content":{"event":"submit"}}`))
	if !reflect.DeepEqual(typed, []string{"Light was"}) || !reflect.DeepEqual(submitted, []string{"Light was"}) {
		t.Errorf("typed %v, submitted %v", typed, submitted)
	}
	d := NewDropdown("size", []string{"small", "large"}, "small")
	var picked []string
	d.OnChange(func(s string) { picked = append(picked, s) })
	display.DeliverComm(d.Model().ID(), fromFrontend(t, `{"method":"update","state":{"index":1}}`))
	if err := d.Set("huge"); err == nil {
		t.Error("Set of a label that is no option accepted")
	}
	if err := d.Set("small"); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(picked, []string{"large", "small"}) {
		t.Errorf("picked %v", picked)
	}
}

func TestOutputCaptureSetsMsgIDAroundF(t *testing.T) {
	r := install(t)
	o := NewOutput()
	msgs := r.take()
	st := msgs[len(msgs)-1].data["state"].(map[string]any)
	if st["_model_name"] != "OutputModel" || st["_model_module"] != "@jupyter-widgets/output" || st["_model_module_version"] != "1.0.0" || st["_view_name"] != "OutputView" {
		t.Fatalf("output model state %v", st)
	}
	r.parent = "comm-msg-42"
	var during, nested []sent
	o.Capture(func() {
		during = r.take()
		o.Clear() // a Capture inside a Capture
		nested = r.take()
	})
	after := r.take()
	if len(nested) != 0 {
		t.Errorf("an inner Capture changed msg_id: %+v (it must stay comm-msg-42 until the outer one ends)", nested)
	}
	if len(during) != 1 || during[0].data["state"].(map[string]any)["msg_id"] != "comm-msg-42" {
		t.Errorf("before f: %+v, want an update msg_id=comm-msg-42", during)
	}
	if len(after) != 1 || after[0].data["state"].(map[string]any)["msg_id"] != "" {
		t.Errorf("after f: %+v, want an update msg_id=\"\"", after)
	}
	// The front end keeps the captured outputs in the model.
	if err := display.DeliverComm(o.Model().ID(), fromFrontend(t, `{"method":"update","state":{"outputs":[{"output_type":"stream","name":"stdout","text":"hi\n"}]}}`)); err != nil {
		t.Fatal(err)
	}
	if err := display.DeliverComm(o.Model().ID(), fromFrontend(t, `{"method":"update","state":{"msg_id":"x"}}`)); err == nil {
		t.Error("the front end set the Output's msg_id")
	}
}

func TestBoxReferencesChildrenAndClose(t *testing.T) {
	r := install(t)
	a, b := NewIntSlider("a", 0, 1, 0), NewButton("b")
	r.take()
	box := VBox(a, HBox(b))
	msgs := r.take()
	st := msgs[len(msgs)-1].data["state"].(map[string]any)
	kids := st["children"].([]any)
	if st["_model_name"] != "VBoxModel" || len(kids) != 2 || kids[0] != "IPY_MODEL_"+a.Model().ID() {
		t.Fatalf("vbox state %v", st)
	}
	if !strings.HasPrefix(box.String(), `VBox(IntSlider(value=0`) {
		t.Errorf("text %q", box.String())
	}
	id := a.Model().ID()
	if _, ok := display.OpenComms(Target)[id]; !ok {
		t.Fatal("slider comm not listed as open")
	}
	a.Model().Close()
	if _, ok := display.OpenComms(Target)[id]; ok {
		t.Error("closed slider still listed")
	}
	if _, ok := States()[id]; ok {
		t.Error("closed slider still in States")
	}
	var closes int
	for _, m := range r.take() {
		if m.kind == "close" {
			closes++
		}
	}
	if closes != 3 {
		t.Errorf("%d comm_close, want 3 (slider, layout, style)", closes)
	}
}

func TestOutsideAKernelWidgetsAreValues(t *testing.T) {
	old := display.SetPublisher(nil)
	defer display.SetPublisher(old)
	s := NewIntSlider("k", 0, 10, 3)
	n := 0
	s.OnChange(func(v int) { n = v })
	s.Set(4)
	if n != 4 || s.Value() != 4 {
		t.Errorf("outside a kernel: callback %d, value %d", n, s.Value())
	}
	ran := false
	NewOutput().Capture(func() { ran = true })
	if !ran {
		t.Error("Capture did not run f outside a kernel")
	}
}
