package gpt

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// stTensor is one tensor of a safetensors file.
type stTensor struct {
	dtype string
	shape []int
	data  []byte
}

// readSafetensorsGz reads a gzip-compressed safetensors file (test vectors).
func readSafetensorsGz(path string) (map[string]stTensor, map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	raw, err := io.ReadAll(zr)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(raw) < 8 {
		return nil, nil, fmt.Errorf("%s: too short for safetensors", path)
	}
	n := binary.LittleEndian.Uint64(raw)
	if n > uint64(len(raw)-8) {
		return nil, nil, fmt.Errorf("%s: header length %d exceeds the file", path, n)
	}
	var hdr map[string]json.RawMessage
	if err := json.Unmarshal(raw[8:8+n], &hdr); err != nil {
		return nil, nil, fmt.Errorf("%s: header: %w", path, err)
	}
	body := raw[8+n:]
	out := map[string]stTensor{}
	var meta map[string]string
	for name, msg := range hdr {
		if name == "__metadata__" {
			if err := json.Unmarshal(msg, &meta); err != nil {
				return nil, nil, fmt.Errorf("%s: metadata: %w", path, err)
			}
			continue
		}
		var t struct {
			Dtype   string `json:"dtype"`
			Shape   []int  `json:"shape"`
			Offsets [2]int `json:"data_offsets"`
		}
		if err := json.Unmarshal(msg, &t); err != nil {
			return nil, nil, fmt.Errorf("%s: tensor %s: %w", path, name, err)
		}
		if t.Offsets[0] < 0 || t.Offsets[1] > len(body) || t.Offsets[0] > t.Offsets[1] {
			return nil, nil, fmt.Errorf("%s: tensor %s: offsets %v out of range", path, name, t.Offsets)
		}
		out[name] = stTensor{t.Dtype, t.Shape, body[t.Offsets[0]:t.Offsets[1]]}
	}
	return out, meta, nil
}

func (t stTensor) f32() []float32 {
	x := make([]float32, len(t.data)/4)
	binary.Read(bytes.NewReader(t.data), binary.LittleEndian, x)
	return x
}

func (t stTensor) i32() []int32 {
	x := make([]int32, len(t.data)/4)
	binary.Read(bytes.NewReader(t.data), binary.LittleEndian, x)
	return x
}

// relErr is the parity metric: max |got-want| / max |want| over one tensor.
func relErr(got, want []float32) float64 {
	var d, m float64
	for i := range want {
		d = math.Max(d, math.Abs(float64(got[i])-float64(want[i])))
		m = math.Max(m, math.Abs(float64(want[i])))
	}
	if m == 0 {
		return d
	}
	return d / m
}

// TestParityPyTorch loads weights and a batch written by tools/torchref/gpt_ref.py and
// checks logits, loss, every gradient and the parameters after one AdamW step
// against PyTorch (float64) to 1e-4 relative error per tensor.
func TestParityPyTorch(t *testing.T) {
	const tol = 1e-4
	pattern := "testdata/parity_*.safetensors.gz"
	if p := os.Getenv("GOLEM_GPT_PARITY_GLOB"); p != "" { // other vectors from tools/torchref/gpt_ref.py
		pattern = p
	}
	files, _ := filepath.Glob(pattern)
	if len(files) == 0 {
		t.Fatal("no testdata/parity_*.safetensors.gz: run tools/torchref/gpt_ref.py")
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			ts, meta, err := readSafetensorsGz(file)
			if err != nil {
				t.Fatal(err)
			}
			var cfg Config
			var batch struct{ B, T int }
			var opt map[string]float64 // lr, beta1, beta2, eps, weight_decay, step
			for k, v := range map[string]any{"config": &cfg, "batch": &batch, "adamw": &opt} {
				if err := json.Unmarshal([]byte(meta[k]), v); err != nil {
					t.Fatalf("metadata %s: %v", k, err)
				}
			}
			m, err := New(cfg, 0)
			if err != nil {
				t.Fatal(err)
			}
			if got := len(m.Tensors()); got*3+4 != len(ts) {
				t.Fatalf("model has %d tensors, file %d entries", got, len(ts))
			}
			for _, tn := range m.Tensors() {
				ref, ok := ts["param/"+tn.Name]
				if !ok {
					t.Fatalf("file lacks param/%s", tn.Name)
				}
				if fmt.Sprint(ref.shape) != fmt.Sprint(tn.Shape) {
					t.Fatalf("%s: shape %v, file %v", tn.Name, tn.Shape, ref.shape)
				}
				copy(m.Params[tn.Offset:tn.Offset+tn.Size], ref.f32())
			}
			tokens, targets := ts["tokens"].i32(), ts["targets"].i32()
			loss, err := m.Forward(tokens, targets, batch.B, batch.T)
			if err != nil {
				t.Fatal(err)
			}
			worst, worstName, worstFB := 0.0, "", 0.0
			check := func(what string, got, want []float32) {
				t.Helper()
				if len(got) != len(want) {
					t.Fatalf("%s: %d values, want %d", what, len(got), len(want))
				}
				e := relErr(got, want)
				if e > worst {
					worst, worstName = e, what
				}
				if !strings.HasPrefix(what, "after") {
					worstFB = math.Max(worstFB, e)
				}
				if e > tol || math.IsNaN(e) {
					t.Errorf("%s: relative error %.3g > %g", what, e, tol)
				}
			}
			check("loss", []float32{loss}, ts["loss"].f32())
			check("logits", m.Logits(), ts["logits"].f32())
			m.ZeroGrad()
			if err := m.Backward(); err != nil {
				t.Fatal(err)
			}
			for _, tn := range m.Tensors() {
				check("grad "+tn.Name, m.Grads[tn.Offset:tn.Offset+tn.Size], ts["grad/"+tn.Name].f32())
			}
			mom := make([]float32, len(m.Params))
			vel := make([]float32, len(m.Params))
			m.AdamWStep(float32(opt["lr"]), float32(opt["beta1"]), float32(opt["beta2"]), float32(opt["eps"]), float32(opt["weight_decay"]), int(opt["step"]), mom, vel)
			for _, tn := range m.Tensors() {
				check("after AdamW "+tn.Name, m.Params[tn.Offset:tn.Offset+tn.Size], ts["after/"+tn.Name].f32())
			}
			// The optimiser alone: PyTorch's gradients in, PyTorch's parameters out.
			for _, tn := range m.Tensors() {
				copy(m.Params[tn.Offset:tn.Offset+tn.Size], ts["param/"+tn.Name].f32())
				copy(m.Grads[tn.Offset:tn.Offset+tn.Size], ts["grad/"+tn.Name].f32())
			}
			clear(mom)
			clear(vel)
			m.AdamWStep(float32(opt["lr"]), float32(opt["beta1"]), float32(opt["beta2"]), float32(opt["eps"]), float32(opt["weight_decay"]), int(opt["step"]), mom, vel)
			adamWorst := 0.0
			for _, tn := range m.Tensors() {
				e := relErr(m.Params[tn.Offset:tn.Offset+tn.Size], ts["after/"+tn.Name].f32())
				adamWorst = math.Max(adamWorst, e)
				if e > 1e-6 {
					t.Errorf("AdamW on PyTorch's gradients, %s: relative error %.3g > 1e-6", tn.Name, e)
				}
			}
			t.Logf("AdamW alone (PyTorch's gradients): worst relative error %.3g", adamWorst)
			t.Logf("%s: %d tensors, worst relative error %.3g (%s; tolerance %g); logits, loss and gradients: %.3g", cfg2s(cfg), len(m.Tensors())*2+2, worst, worstName, tol, worstFB)
		})
	}
}

func cfg2s(c Config) string {
	return fmt.Sprintf("V%d T%d L%d H%d C%d bias=%v", c.VocabSize, c.ContextLen, c.Layers, c.Heads, c.Width, c.Bias)
}
