package train

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"sort"
	"strconv"

	"github.com/golem-lm/golem/lmlib/data"
)

// NamedTensor is one float32 tensor for a safetensors file.
type NamedTensor struct {
	Name  string
	Shape []int
	Data  []float32
}

// WriteSafetensors writes tensors to path in the safetensors format (an 8-byte
// little-endian header length, a JSON header mapping each name to its dtype "F32",
// shape and [begin,end) byte offsets, then the data), atomically and fsynced.
// Tensors are stored in the given order; metadata goes to "__metadata__".
func WriteSafetensors(path string, tensors []NamedTensor, metadata map[string]string) error {
	var hdr bytes.Buffer
	hdr.WriteByte('{')
	if len(metadata) > 0 {
		keys := make([]string, 0, len(metadata))
		for k := range metadata {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		hdr.WriteString(`"__metadata__":{`)
		for i, k := range keys {
			if i > 0 {
				hdr.WriteByte(',')
			}
			kb, _ := json.Marshal(k)
			vb, _ := json.Marshal(metadata[k])
			hdr.Write(kb)
			hdr.WriteByte(':')
			hdr.Write(vb)
		}
		hdr.WriteByte('}')
	}
	seen := map[string]bool{}
	var off int64
	for i, t := range tensors {
		if t.Name == "" || t.Name == "__metadata__" || seen[t.Name] {
			return fmt.Errorf("write safetensors %s: bad or duplicate tensor name %q", path, t.Name)
		}
		seen[t.Name] = true
		n := 1
		for _, d := range t.Shape {
			n *= d
		}
		if n != len(t.Data) {
			return fmt.Errorf("write safetensors %s: tensor %s has shape %v but %d values", path, t.Name, t.Shape, len(t.Data))
		}
		if i > 0 || len(metadata) > 0 {
			hdr.WriteByte(',')
		}
		nb, _ := json.Marshal(t.Name)
		hdr.Write(nb)
		hdr.WriteString(`:{"dtype":"F32","shape":[`)
		for j, d := range t.Shape {
			if j > 0 {
				hdr.WriteByte(',')
			}
			hdr.WriteString(strconv.Itoa(d))
		}
		end := off + int64(4*n)
		fmt.Fprintf(&hdr, `],"data_offsets":[%d,%d]}`, off, end)
		off = end
	}
	hdr.WriteByte('}')
	for hdr.Len()%8 != 0 {
		hdr.WriteByte(' ')
	}
	buf := make([]byte, 0, 8+hdr.Len()+int(off))
	buf = binary.LittleEndian.AppendUint64(buf, uint64(hdr.Len()))
	buf = append(buf, hdr.Bytes()...)
	for _, t := range tensors {
		for _, v := range t.Data {
			buf = binary.LittleEndian.AppendUint32(buf, math.Float32bits(v))
		}
	}
	if err := data.WriteFileAtomic(path, buf); err != nil {
		return fmt.Errorf("write safetensors %s: %w", path, err)
	}
	return nil
}

// Safetensors is a safetensors file read into memory.
type Safetensors struct {
	Path     string
	Metadata map[string]string
	Names    []string // in data order
	tensors  map[string]NamedTensor
}

// Tensor returns the tensor called name.
func (s *Safetensors) Tensor(name string) (NamedTensor, bool) {
	t, ok := s.tensors[name]
	return t, ok
}

// ReadSafetensors reads a safetensors file with F32 tensors.
func ReadSafetensors(path string) (*Safetensors, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read safetensors %s: %w", path, err)
	}
	return ParseSafetensors(b, path)
}

// ParseSafetensors decodes safetensors bytes; path only names them in errors.
func ParseSafetensors(b []byte, path string) (*Safetensors, error) {
	bad := func(format string, a ...any) error {
		return fmt.Errorf("safetensors %s: %s", path, fmt.Sprintf(format, a...))
	}
	if len(b) < 8 {
		return nil, bad("truncated: %d bytes", len(b))
	}
	n := binary.LittleEndian.Uint64(b)
	if n > uint64(len(b)-8) {
		return nil, bad("header length %d is past the end of the %d-byte file", n, len(b))
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b[8:8+n], &raw); err != nil {
		return nil, bad("header: %v", err)
	}
	data := b[8+n:]
	s := &Safetensors{Path: path, tensors: map[string]NamedTensor{}}
	type entry struct {
		DType   string  `json:"dtype"`
		Shape   []int   `json:"shape"`
		Offsets []int64 `json:"data_offsets"`
	}
	offs := map[string][2]int64{}
	for name, r := range raw {
		if name == "" {
			return nil, bad("a tensor has an empty name")
		}
		if name == "__metadata__" {
			if err := json.Unmarshal(r, &s.Metadata); err != nil {
				return nil, bad("__metadata__: %v", err)
			}
			continue
		}
		var e entry
		if err := json.Unmarshal(r, &e); err != nil {
			return nil, bad("tensor %s: %v", name, err)
		}
		if e.DType != "F32" {
			return nil, bad("tensor %s has dtype %q, only F32 is supported", name, e.DType)
		}
		if len(e.Offsets) != 2 || e.Offsets[0] < 0 || e.Offsets[1] < e.Offsets[0] || e.Offsets[1] > int64(len(data)) {
			return nil, bad("tensor %s: data_offsets %v outside the %d data bytes", name, e.Offsets, len(data))
		}
		count := int64(1)
		for _, d := range e.Shape {
			if d < 0 {
				return nil, bad("tensor %s: negative dimension in shape %v", name, e.Shape)
			}
			count *= int64(d)
		}
		if count*4 != e.Offsets[1]-e.Offsets[0] {
			return nil, bad("tensor %s: shape %v needs %d bytes, data_offsets give %d", name, e.Shape, count*4, e.Offsets[1]-e.Offsets[0])
		}
		vals := make([]float32, count)
		for i := range vals {
			vals[i] = math.Float32frombits(binary.LittleEndian.Uint32(data[e.Offsets[0]+4*int64(i):]))
		}
		s.tensors[name] = NamedTensor{Name: name, Shape: e.Shape, Data: vals}
		s.Names = append(s.Names, name)
		offs[name] = [2]int64{e.Offsets[0], e.Offsets[1]}
	}
	sort.Slice(s.Names, func(i, j int) bool {
		a, b := offs[s.Names[i]], offs[s.Names[j]]
		if a != b {
			return a[0] < b[0] || (a[0] == b[0] && a[1] < b[1])
		}
		return s.Names[i] < s.Names[j]
	})
	return s, nil
}
