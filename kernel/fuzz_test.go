package kernel

import (
	"bytes"
	"testing"
)

// FuzzDecode: arbitrary frames never panic the decoder, and whatever it accepts
// re-encodes to frames that decode to the same message.
func FuzzDecode(f *testing.F) {
	for _, v := range []string{"", "k"} {
		s := NewSigner([]byte(v))
		m := &Message{Identities: [][]byte{[]byte("id")}, Header: NewHeader("execute_request", "s"), Content: []byte(`{"code":"1"}`)}
		frames, _ := s.Encode(m)
		f.Add(v, bytes.Join(frames, []byte{0}))
	}
	f.Add("", []byte("<IDS|MSG>\x00\x00{}\x00{}\x00{}\x00{}"))
	f.Fuzz(func(t *testing.T, key string, joined []byte) {
		s := NewSigner([]byte(key))
		m, err := s.Decode(bytes.Split(joined, []byte{0}))
		if err != nil {
			return
		}
		frames, err := s.Encode(m)
		if err != nil {
			return // a header that decodes but does not re-encode is not an accepted message
		}
		m2, err := s.Decode(frames)
		if err != nil {
			t.Fatalf("re-encoded message does not decode: %v", err)
		}
		if m2.Header != m.Header || !bytes.Equal(m2.Content, m.Content) {
			t.Fatalf("round trip changed the message")
		}
	})
}

// FuzzGlob: any history search pattern compiles or is refused, never panics.
func FuzzGlob(f *testing.F) {
	for _, p := range []string{"*", "a?b", "[ab]*", "[^x]", "[", "]", `\`, "[]]", "[!a]"} {
		f.Add(p, "abc")
	}
	f.Fuzz(func(t *testing.T, pattern, input string) {
		re, err := globRegexp(pattern)
		if err == nil {
			re.MatchString(input)
		}
	})
}
