package kernel

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"testing"
)

type wireVector struct {
	Key     string   `json:"key"`
	MsgType string   `json:"msg_type"`
	Frames  []string `json:"frames"`
}

func loadVectors(t *testing.T) []wireVector {
	t.Helper()
	b, err := os.ReadFile("testdata/wire_vectors.json")
	if err != nil {
		t.Fatal(err)
	}
	var vs []wireVector
	if err := json.Unmarshal(b, &vs); err != nil {
		t.Fatal(err)
	}
	return vs
}

func toFrames(ss []string) [][]byte {
	out := make([][]byte, len(ss))
	for i, s := range ss {
		out[i] = []byte(s)
	}
	return out
}

// Messages signed by jupyter_client's Session verify and decode; re-encoding the
// same parts gives jupyter_client's signature.
func TestDecodeJupyterClientVectors(t *testing.T) {
	for _, v := range loadVectors(t) {
		t.Run(v.MsgType+"/key="+v.Key, func(t *testing.T) {
			s := NewSigner([]byte(v.Key))
			m, err := s.Decode(toFrames(v.Frames))
			if err != nil {
				t.Fatal(err)
			}
			if m.Header.MsgType != v.MsgType || string(m.Identities[0]) != "client-identity" {
				t.Fatalf("decoded %+v ids %q", m.Header, m.Identities)
			}
			sig := s.Sign([]byte(v.Frames[3]), []byte(v.Frames[4]), []byte(v.Frames[5]), []byte(v.Frames[6]))
			if string(sig) != v.Frames[2] {
				t.Fatalf("signature %q, jupyter_client %q", sig, v.Frames[2])
			}
		})
	}
}

func TestDecodeRejects(t *testing.T) {
	v := loadVectors(t)[1] // a signed execute_request
	s := NewSigner([]byte(v.Key))
	tamper := func(i int, f func(string) string) [][]byte {
		fr := toFrames(v.Frames)
		fr[i] = []byte(f(v.Frames[i]))
		return fr
	}
	cases := []struct {
		name   string
		frames [][]byte
		bad    error // nil: any error
	}{
		{"content changed", tamper(6, func(s string) string { return s[:len(s)-1] + ` ` + "}" }), ErrBadSignature},
		{"header changed", tamper(3, func(s string) string { return s + " " }), ErrBadSignature},
		{"signature changed", tamper(2, func(s string) string { return "0" + s[1:] }), ErrBadSignature},
		{"no signature", tamper(2, func(string) string { return "" }), ErrBadSignature},
		{"no delimiter", tamper(1, func(string) string { return "<IDS|MSG" }), nil},
		{"too few frames", toFrames(v.Frames[:5]), nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := s.Decode(c.frames)
			if err == nil {
				t.Fatal("accepted")
			}
			if c.bad != nil && !errors.Is(err, c.bad) {
				t.Fatalf("error %v, want %v", err, c.bad)
			}
		})
	}
	// The wrong key fails too.
	if _, err := NewSigner([]byte("other")).Decode(toFrames(v.Frames)); !errors.Is(err, ErrBadSignature) {
		t.Fatalf("wrong key: %v", err)
	}
}

func TestEncodeDecodeRoundTrip(t *testing.T) {
	for _, key := range []string{"k3y", ""} {
		s := NewSigner([]byte(key))
		in := &Message{
			Identities: [][]byte{[]byte("a"), []byte("b")},
			Header:     NewHeader("execute_reply", "sess"),
			Parent:     json.RawMessage(`{"msg_id":"p"}`),
			Content:    json.RawMessage(`{"status":"ok","execution_count":3}`),
			Buffers:    [][]byte{{0, 1, 2}},
		}
		frames, err := s.Encode(in)
		if err != nil {
			t.Fatal(err)
		}
		if key == "" && len(frames[3]) != 0 {
			t.Fatalf("unsigned message has signature %q", frames[3])
		}
		out, err := s.Decode(frames)
		if err != nil {
			t.Fatal(err)
		}
		if out.Header != in.Header || !bytes.Equal(out.Content, in.Content) || !bytes.Equal(out.Parent, in.Parent) ||
			string(out.Metadata) != "{}" || len(out.Buffers) != 1 || len(out.Identities) != 2 {
			t.Fatalf("round trip: %+v", out)
		}
	}
}
