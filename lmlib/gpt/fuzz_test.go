package gpt

import (
	"encoding/binary"
	"errors"
	"testing"
)

// FuzzForward feeds arbitrary token ids and batch shapes to Forward/Backward: bad
// input must come back as an error, never a panic, and good input must give a
// finite loss.
func FuzzForward(f *testing.F) {
	f.Add([]byte{1, 2, 3, 4, 5, 6, 7, 8}, uint8(2), uint8(4), true)
	f.Add([]byte{0xff, 0xff, 0xff, 0x7f}, uint8(1), uint8(1), false)
	f.Add([]byte{}, uint8(0), uint8(3), true)
	m, err := New(Config{VocabSize: 11, ContextLen: 6, Layers: 1, Heads: 2, Width: 8, Bias: true, Dropout: 0.1}, 1)
	if err != nil {
		f.Fatal(err)
	}
	m.SetTrain(true, NewRNG(2))
	f.Fuzz(func(t *testing.T, data []byte, b, tt uint8, withTargets bool) {
		B, T := int(b%5), int(tt%9)
		var ids []int32
		for len(data) >= 2 {
			v := int16(binary.LittleEndian.Uint16(data))
			data = data[2:]
			ids = append(ids, int32(v%16)) // mostly in range, some ≥ 11 or negative
		}
		var targets []int32
		if withTargets && len(ids) > 0 {
			targets = make([]int32, len(ids))
			for i, v := range ids {
				targets[i] = v%12 - 1 // -1 (ignore) … 10
			}
		}
		loss, err := m.Forward(ids, targets, B, T)
		if err != nil {
			if errors.Is(err, ErrNonFinite) {
				t.Fatalf("non-finite loss on valid input: %v", err)
			}
			return
		}
		if targets == nil {
			if len(m.Logits()) != B*T*11 {
				t.Fatalf("logits: %d values for %d×%d", len(m.Logits()), B, T)
			}
			return
		}
		if !(loss >= 0) {
			t.Fatalf("loss %v", loss)
		}
		m.ZeroGrad()
		if err := m.Backward(); err != nil {
			t.Fatal(err)
		}
		if err := m.CheckFinite(); err != nil {
			t.Fatal(err)
		}
	})
}
