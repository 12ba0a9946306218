package train

import (
	"encoding/json"
	"strings"
	"sync"
	"testing"

	"github.com/golem-lm/golem/display"
)

// notebook records what a kernel's publisher would send.
type notebook struct {
	mu   sync.Mutex
	msgs []msg
}

type msg struct {
	b      display.Bundle
	id     string
	update bool
}

func (n *notebook) Display(b display.Bundle, _ map[string]any, id string, update bool) {
	n.mu.Lock()
	n.msgs = append(n.msgs, msg{b, id, update})
	n.mu.Unlock()
}
func (n *notebook) ClearOutput(bool) {}

// In a notebook, Train shows an HTML status line and a Vega-Lite loss chart, each
// displayed once and then updated in place, the chart with both curves.
func TestLiveProgressInNotebook(t *testing.T) {
	nb := &notebook{}
	old := display.SetPublisher(nb)
	defer display.SetPublisher(old)
	m, tl, vl := small(t, 0, 4, 32)
	res, err := Train(m, tl, vl, Options{MaxSteps: 20, EvalEvery: 10, EvalBatches: 2})
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string][]msg{}
	var order []string
	for _, x := range nb.msgs {
		if x.id == "" {
			t.Fatalf("output without a display id: %v", x.b)
		}
		if _, ok := ids[x.id]; !ok {
			order = append(order, x.id)
		}
		ids[x.id] = append(ids[x.id], x)
	}
	if len(order) != 2 {
		t.Fatalf("%d display ids, want a status line and a chart", len(order))
	}
	for _, id := range order {
		for i, x := range ids[id] {
			if x.update != (i > 0) {
				t.Errorf("display %s message %d: update=%v", id, i, x.update)
			}
		}
	}
	line := ids[order[0]]
	last := line[len(line)-1].b["text/html"].(string)
	if !strings.Contains(last, "step 20/20") || !strings.Contains(last, "val ") || !strings.Contains(last, "tok/s") || !strings.Contains(last, "reached MaxSteps") {
		t.Errorf("final status line %q", last)
	}
	chart := ids[order[1]]
	spec, ok := chart[len(chart)-1].b["application/vnd.vegalite.v5+json"]
	if !ok {
		t.Fatalf("chart bundle %v", chart[len(chart)-1].b)
	}
	js, _ := json.Marshal(spec)
	if !strings.Contains(string(js), `"split":"train"`) || !strings.Contains(string(js), `"split":"validation"`) {
		t.Errorf("chart lacks a curve: %s", js)
	}
	// The result renders as the chart with a summary.
	b := res.DisplayBundle()
	if _, ok := b["application/vnd.vegalite.v5+json"]; !ok || !strings.Contains(b["text/plain"].(string), "20 steps") {
		t.Errorf("result bundle %v", b)
	}
}
