package train

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// pythonTensors are the tensors of testdata/python.safetensors (gen_safetensors.py),
// in name order.
var pythonTensors = []NamedTensor{
	{Name: "a", Shape: []int{2, 3}, Data: []float32{0, 0.25, 0.5, 0.75, 1, 1.25}},
	{Name: "empty", Shape: []int{0, 2}, Data: []float32{}},
	{Name: "h.0.ln_1.weight", Shape: []int{4}, Data: []float32{1, 0.875, 0.75, 0.625}},
	{Name: "scalar", Shape: []int{}, Data: []float32{3.5}},
}

// The reader reads what the safetensors package writes, and the writer writes the
// very same bytes for the same tensors (names in order, metadata {"format":"pt"}).
func TestSafetensorsMatchesPythonPackage(t *testing.T) {
	st, err := ReadSafetensors("testdata/python.safetensors")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(st.Metadata, map[string]string{"format": "pt"}) {
		t.Errorf("metadata %v", st.Metadata)
	}
	for _, want := range pythonTensors {
		got, ok := st.Tensor(want.Name)
		if !ok || !reflect.DeepEqual(got.Shape, want.Shape) || fmt.Sprint(got.Data) != fmt.Sprint(want.Data) {
			t.Errorf("tensor %s: got %+v, want %+v", want.Name, got, want)
		}
	}
	path := filepath.Join(t.TempDir(), "go.safetensors")
	if err := WriteSafetensors(path, pythonTensors, map[string]string{"format": "pt"}); err != nil {
		t.Fatal(err)
	}
	gob, _ := os.ReadFile(path)
	pyb, _ := os.ReadFile("testdata/python.safetensors")
	if !bytes.Equal(gob, pyb) {
		t.Errorf("golem's file differs from the safetensors package's:\n%q\n%q", gob, pyb)
	}
}

// When the safetensors package is installed (make peers), it loads golem's files.
func TestSafetensorsReadByPython(t *testing.T) {
	py := "../../.venv/bin/python"
	if err := exec.Command(py, "-c", "import safetensors, numpy").Run(); err != nil {
		t.Skip("safetensors (PyPI) not installed; run make peers")
	}
	ts := []NamedTensor{
		{Name: "wte", Shape: []int{3, 2}, Data: []float32{1, -2, 3.25, 4, 5, 1e-7}},
		{Name: "h.0.attn.c_attn.bias", Shape: []int{5}, Data: []float32{0.5, 0.5, 0.5, 0.5, 0.5}},
	}
	path := filepath.Join(t.TempDir(), "m.safetensors")
	if err := WriteSafetensors(path, ts, map[string]string{"format": "pt", "producer": "golem"}); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(py, "testdata/read_safetensors.py", path).CombinedOutput()
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	want := "h.0.attn.c_attn.bias [5] 2.5 0.5\nwte [3, 2] 11.250000100000001 1.0\n"
	if string(out) != want {
		t.Errorf("python read\n%s\nwant\n%s", out, want)
	}
}

func TestSafetensorsErrors(t *testing.T) {
	dir := t.TempDir()
	good, _ := os.ReadFile("testdata/python.safetensors")
	hdr := func(js string) []byte {
		b := binary.LittleEndian.AppendUint64(nil, uint64(len(js)))
		return append(append(b, js...), make([]byte, 8)...)
	}
	tests := []struct {
		name string
		data []byte
		want string
	}{
		{"short", good[:5], "truncated"},
		{"hugeheader", append(binary.LittleEndian.AppendUint64(nil, 1<<40), good[8:]...), "past the end"},
		{"badjson", hdr(`{"a":`), "header"},
		{"dtype", hdr(`{"a":{"dtype":"F16","shape":[2],"data_offsets":[0,4]}}`), `dtype "F16"`},
		{"offsets", hdr(`{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}`), "outside the 8 data bytes"},
		{"shape", hdr(`{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}`), "needs 12 bytes"},
		{"negative", hdr(`{"a":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}}`), "negative dimension"},
		{"emptyname", hdr(`{"":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}`), "empty name"},
		{"truncated data", good[:len(good)-4], "outside"},
	}
	for _, tc := range tests {
		p := filepath.Join(dir, tc.name+".safetensors")
		os.WriteFile(p, tc.data, 0o644)
		_, err := ReadSafetensors(p)
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), p) {
			t.Errorf("%s: %v, want %q and the path", tc.name, err, tc.want)
		}
	}
	if err := WriteSafetensors(filepath.Join(dir, "x"), []NamedTensor{{Name: "a", Shape: []int{3}, Data: []float32{1}}}, nil); err == nil || !strings.Contains(err.Error(), "shape [3] but 1 values") {
		t.Errorf("write shape mismatch: %v", err)
	}
	if err := WriteSafetensors(filepath.Join(dir, "x"), []NamedTensor{{Name: "a", Data: []float32{1}}, {Name: "a", Data: []float32{1}}}, nil); err == nil || !strings.Contains(err.Error(), "duplicate") {
		t.Errorf("write duplicate: %v", err)
	}
}

func FuzzReadSafetensors(f *testing.F) {
	good, _ := os.ReadFile("testdata/python.safetensors")
	f.Add(good)
	f.Add([]byte{8, 0, 0, 0, 0, 0, 0, 0, '{', '}', ' ', ' ', ' ', ' ', ' ', ' '})
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, b []byte) {
		st, err := ParseSafetensors(b, "fuzz")
		if err != nil {
			return
		}
		var ts []NamedTensor
		for _, n := range st.Names {
			x, _ := st.Tensor(n)
			ts = append(ts, x)
		}
		q := filepath.Join(dir, "g.safetensors")
		if err := WriteSafetensors(q, ts, st.Metadata); err != nil {
			t.Fatal(err)
		}
		st2, err := ReadSafetensors(q)
		if err != nil || !reflect.DeepEqual(st2.Names, st.Names) {
			t.Fatalf("rewrite: %v %v %v", err, st2, st)
		}
	})
}
