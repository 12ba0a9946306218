package data

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

var jsonObjectCases = []string{
	`{"id":"a","text":"one"}`,
	` { "text" : "tab\tnew\nline \"q\" \\ \/ \b\f\r é \u00e9 \ud83d\ude00 \ud800 \udc00x \u0041" } `,
	`{"n":0,"m":-1.5e+10,"k":1E-2,"big":12345678901234567890,"f":1e400}`,
	`{"t":true,"f":false,"z":null,"o":{"a":[1,{"b":"}]"}],"c":{}},"l":[]}`,
	`{}`, `{"a":1,"a":2}`, `{"text":"x"}garbage`, `{"text":"x",}`, `{"text":"x" "id":1}`,
	`{"text":01}`, `{"text":-}`, `{"text":1.}`, `{"text":1e}`, `{"text":.5}`, `{"text":tru}`,
	`{"text":"unterminated}`, `{"text":"bad \x escape"}`, `{"text":"\u12"}`, "{\"text\":\"ctl \x01\"}",
	`[1,2]`, `"str"`, `null`, `12`, ``, `   `, `{`, `{"a"`, `{"a":`, `{"a":[1,2}`, `{"a":{"b":1]}`,
	`{"a":[1,2]]}`, `{a:1}`, `{"a":1}}`, "{\"a\":\"\u2028\"}",
}

func checkJSONObject(t *testing.T, s string) {
	t.Helper()
	got, err := parseJSONObject([]byte(s))
	var want map[string]any
	var werr error = errNotObject
	if json.Valid([]byte(s)) {
		dec := json.NewDecoder(bytes.NewReader([]byte(s)))
		dec.UseNumber()
		werr = dec.Decode(&want)
		if werr == nil && want == nil {
			werr = errNotObject // null
		}
	}
	if (err == nil) != (werr == nil) {
		t.Fatalf("%q: parseJSONObject error %v, encoding/json error %v", s, err, werr)
	}
	if err == nil && !reflect.DeepEqual(got, want) {
		t.Fatalf("%q: got %#v, want %#v", s, got, want)
	}
}

var errNotObject = json.Unmarshal([]byte("x"), new(any))

func TestParseJSONObject(t *testing.T) {
	for _, s := range jsonObjectCases {
		checkJSONObject(t, s)
	}
	// encoding/json's nesting limit, on both sides of the edge.
	checkJSONObject(t, `{"a":`+strings.Repeat("[", 9999)+strings.Repeat("]", 9999)+`}`)
	checkJSONObject(t, `{"a":`+strings.Repeat("[", 10000)+strings.Repeat("]", 10000)+`}`)
}

func TestControlByte(t *testing.T) {
	for n := 0; n < 40; n++ {
		for pos := -1; pos < n; pos++ {
			for _, c := range []byte{0x00, 0x1f} {
				b := bytes.Repeat([]byte{'a'}, n)
				for i := range b {
					b[i] = byte(0x20 + (i*37)%0xdf) // printable and high bytes
				}
				if pos >= 0 {
					b[pos] = c
				}
				if got := controlByte(b); got != pos {
					t.Fatalf("n=%d pos=%d c=%#x: got %d", n, pos, c, got)
				}
			}
		}
	}
}
