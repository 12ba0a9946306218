package gpt

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
)

// actViews lists every Buf field of a netActs, found by reflection (not through
// actTable), so a view added to the struct but not to the table shows up as unsized.
func actViews(a *netActs) map[string]Buf {
	out := map[string]Buf{}
	var walk func(prefix string, v reflect.Value)
	walk = func(prefix string, v reflect.Value) {
		switch {
		case v.Type() == reflect.TypeOf(Buf{}):
			// Interface() is not allowed on unexported fields; reading them is.
			out[prefix] = Buf{Arena: Arena(v.FieldByName("Arena").Uint()), Off: int(v.FieldByName("Off").Int()), Len: int(v.FieldByName("Len").Int())}
		case v.Kind() == reflect.Struct:
			for i := 0; i < v.NumField(); i++ {
				walk(prefix+"."+v.Type().Field(i).Name, v.Field(i))
			}
		case v.Kind() == reflect.Slice:
			for i := 0; i < v.Len(); i++ {
				walk(fmt.Sprintf("%s[%d]", prefix, i), v.Index(i))
			}
		default:
			panic(fmt.Sprintf("netActs%s: %s is neither a Buf, a struct nor a slice", prefix, v.Type()))
		}
	}
	walk("", reflect.ValueOf(a).Elem())
	return out
}

// Every float of the activation arena belongs to exactly one view (no gaps, no
// overlaps), every view is in the arena, and the arena is the table's sum: the
// allocation and the views come from one table.
func TestActivationLayoutCoversArena(t *testing.T) {
	cfgs := []Config{
		{VocabSize: 17, ContextLen: 8, Layers: 2, Heads: 2, Width: 16, Bias: true},
		{VocabSize: 301, ContextLen: 40, Layers: 3, Heads: 4, Width: 32, Bias: false, Dropout: 0.1},
		{VocabSize: 5, ContextLen: 3, Layers: 1, Heads: 1, Width: 2},
		{VocabSize: 17, ContextLen: 8, Layers: 2, Heads: 2, Width: 16, Rotary: true, RMSNorm: true, QKNorm: true, ReLU2: true, Untied: true, SoftCap: 15},
		{VocabSize: 17, ContextLen: 8, Layers: 2, Heads: 2, Width: 16, Bias: true, QKNorm: true, Dropout: 0.1},
	}
	for _, cfg := range cfgs {
		n, err := NewNet(cfg)
		if err != nil {
			t.Fatal(err)
		}
		for _, bt := range [][2]int{{1, 1}, {2, cfg.ContextLen}, {3, cfg.ContextLen - 1}, {1, 2}} {
			B, T := bt[0], bt[1]
			if T < 1 {
				continue
			}
			size := n.Layout(B, T)
			if size != n.ActSize() {
				t.Fatalf("Layout returned %d, ActSize %d", size, n.ActSize())
			}
			cover := make([]uint8, size)
			views := actViews(&n.acts)
			for name, b := range views {
				// Views a config does not use are empty: the means with RMSNorm, the
				// QK-norm factors without QKNorm.
				unused := (cfg.RMSNorm && strings.HasSuffix(name, "Mean")) || (!cfg.QKNorm && strings.HasSuffix(name, "qkRstd"))
				if unused && b.Len == 0 {
					continue
				}
				if b.Arena != ArenaActs || b.Len <= 0 || b.Off < 0 || b.Off+b.Len > size {
					t.Fatalf("%+v B=%d T=%d: view %s = %+v is not a non-empty range of the %d-float activation arena", cfg, B, T, name, b, size)
				}
				for i := b.Off; i < b.Off+b.Len; i++ {
					cover[i]++
				}
			}
			for i, c := range cover {
				if c != 1 {
					t.Fatalf("%+v B=%d T=%d: activation float %d is covered by %d views, want 1", cfg, B, T, i, c)
				}
			}
			// The per-block views repeat for every layer.
			if want := 12 + 14*cfg.Layers; len(views) != want {
				t.Errorf("%d views, want %d", len(views), want)
			}
		}
	}
}

// The table has what GPT-2 needs and nothing more: for GPT-2 small at B=4, T=1024
// it is 16·N·C + 4·N + B·NH·T² floats per layer and 13·N·C + 3·N + N·V outside the
// blocks (encoded, branch, lnf, dres, dC, dC2 at N·C; d3C; d4C; three N-vectors;
// logits).
func TestActivationSizeGPT2Small(t *testing.T) {
	cfg := GPT2Small()
	n, err := NewNet(cfg)
	if err != nil {
		t.Fatal(err)
	}
	B, T := 4, 1024
	N, C, V, NH, L := B*T, cfg.Width, cfg.VocabSize, cfg.Heads, cfg.Layers
	want := L*(16*N*C+4*N+B*NH*T*T) + 13*N*C + 3*N + N*V
	if got := n.Layout(B, T); got != want {
		t.Fatalf("GPT-2 small activations: %d floats, want %d", got, want)
	}
}

// The modern switches change the table by what they need: RMSNorm drops the 2L+1
// mean vectors, QKNorm adds 2·N·NH factors per layer; the rest is GPT-2's.
func TestActivationSizeModern(t *testing.T) {
	cfg := GPT2Small()
	B, T := 2, 128
	N, NH, L := B*T, cfg.Heads, cfg.Layers
	gpt2, _ := NewNet(cfg)
	cfg.Rotary, cfg.RMSNorm, cfg.QKNorm, cfg.ReLU2, cfg.Untied, cfg.SoftCap, cfg.Bias = true, true, true, true, true, 15, false
	modern, _ := NewNet(cfg)
	if got, want := modern.Layout(B, T), gpt2.Layout(B, T)-(2*L+1)*N+L*2*N*NH; got != want {
		t.Fatalf("modern activations: %d floats, want %d", got, want)
	}
}

// Config.CheckBatch is the one batch check (gpt.Model and lmlib/gpt/cuda prefix
// its errors with their own names).
func TestCheckBatch(t *testing.T) {
	c := Config{VocabSize: 17, ContextLen: 8, Layers: 1, Heads: 1, Width: 4}
	tok, tgt := batch(17, 16, 1)
	tgt[3] = -1
	if n, err := c.CheckBatch(tok, tgt, 2, 8); err != nil || n != 15 {
		t.Fatalf("CheckBatch = %d, %v; want 15 targets", n, err)
	}
	if n, err := c.CheckBatch(tok, nil, 2, 8); err != nil || n != 0 {
		t.Fatalf("CheckBatch without targets = %d, %v", n, err)
	}
	if _, err := c.CheckBatch(tok, tgt, 4, 4); err != nil {
		t.Fatalf("4×4: %v", err)
	}
	if _, err := c.CheckBatch(tok, tgt, 1, 16); err == nil {
		t.Fatal("T=16 over a context of 8 accepted")
	}
}
