package data

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"unicode/utf16"
	"unicode/utf8"
)

// parseJSONObject parses a line holding one JSON object into a map, the way
// encoding/json decodes into map[string]any with UseNumber (strings, json.Number,
// bool, nil, map[string]any, []any). It is a single pass without reflection, several times faster than encoding/json on
// JSONL documents, whose time goes into one long "text" string. b must be valid
// UTF-8 (the reader checks that first). The fuzz test FuzzJSONObject checks that
// it accepts and returns exactly what encoding/json does.
func parseJSONObject(b []byte) (map[string]any, error) {
	var p jsonParser
	return p.parse(b)
}

// parse is parseJSONObject reusing p's scratch buffer between lines.
func (p *jsonParser) parse(b []byte) (map[string]any, error) {
	p.b, p.i, p.depth = b, 0, 0
	p.ws()
	if p.i >= len(b) || b[p.i] != '{' {
		if p.i < len(b) && (b[p.i] == '[' || b[p.i] == '"' || b[p.i] == '-' || (b[p.i] >= '0' && b[p.i] <= '9') ||
			b[p.i] == 't' || b[p.i] == 'f' || b[p.i] == 'n') {
			return nil, errors.New("line is not a JSON object")
		}
		return nil, p.errf("expected '{'")
	}
	m, err := p.object()
	if err != nil {
		return nil, err
	}
	p.ws()
	if p.i != len(b) {
		return nil, p.errf("data after the JSON object")
	}
	return m, nil
}

type jsonParser struct {
	b     []byte
	i     int
	buf   []byte
	depth int
}

// maxJSONDepth is encoding/json's nesting limit.
const maxJSONDepth = 10000

// object parses an object starting at '{'.
func (p *jsonParser) object() (map[string]any, error) {
	b := p.b
	p.depth++
	if p.depth > maxJSONDepth {
		return nil, p.errf("exceeded max depth")
	}
	defer func() { p.depth-- }()
	p.i++
	m := make(map[string]any, 8)
	p.ws()
	if p.i < len(b) && b[p.i] == '}' {
		p.i++
		return m, nil
	}
	for {
		p.ws()
		if p.i >= len(b) || b[p.i] != '"' {
			return nil, p.errf("expected a string key")
		}
		key, err := p.str()
		if err != nil {
			return nil, err
		}
		p.ws()
		if p.i >= len(b) || b[p.i] != ':' {
			return nil, p.errf("expected ':' after the key")
		}
		p.i++
		p.ws()
		v, err := p.value()
		if err != nil {
			return nil, err
		}
		m[key] = v
		p.ws()
		if p.i >= len(b) {
			return nil, p.errf("unexpected end of the line")
		}
		if b[p.i] == ',' {
			p.i++
			continue
		}
		if b[p.i] == '}' {
			p.i++
			return m, nil
		}
		return nil, p.errf("expected ',' or '}'")
	}
}

// array parses an array starting at '['.
func (p *jsonParser) array() ([]any, error) {
	b := p.b
	p.depth++
	if p.depth > maxJSONDepth {
		return nil, p.errf("exceeded max depth")
	}
	defer func() { p.depth-- }()
	p.i++
	a := []any{}
	p.ws()
	if p.i < len(b) && b[p.i] == ']' {
		p.i++
		return a, nil
	}
	for {
		p.ws()
		v, err := p.value()
		if err != nil {
			return nil, err
		}
		a = append(a, v)
		p.ws()
		if p.i >= len(b) {
			return nil, p.errf("unexpected end of the line")
		}
		if b[p.i] == ',' {
			p.i++
			continue
		}
		if b[p.i] == ']' {
			p.i++
			return a, nil
		}
		return nil, p.errf("expected ',' or ']'")
	}
}

func (p *jsonParser) errf(what string) error {
	if p.i >= len(p.b) {
		return fmt.Errorf("%s at the end of the line (column %d)", what, p.i+1)
	}
	return fmt.Errorf("%s at column %d, found %q", what, p.i+1, p.b[p.i])
}

func (p *jsonParser) ws() {
	for p.i < len(p.b) {
		switch p.b[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

// str parses a string starting at the opening quote. Runs without escapes are
// found with IndexByte (SIMD) and copied in bulk.
func (p *jsonParser) str() (string, error) {
	b := p.b
	start := p.i + 1
	j := start
	qpos := -1 // absolute position of the next '"' at or after j
	out := p.buf[:0]
	for first := true; ; first = false {
		if qpos < j {
			q := bytes.IndexByte(b[j:], '"')
			if q < 0 {
				p.i = len(b)
				return "", p.errf("unterminated string")
			}
			qpos = j + q
		}
		seg := b[j:qpos]
		if bs := bytes.IndexByte(seg, '\\'); bs >= 0 {
			seg = seg[:bs]
		}
		if k := controlByte(seg); k >= 0 {
			p.i = j + k
			return "", p.errf("control character in a string")
		}
		j += len(seg)
		if j == qpos {
			p.i = j + 1
			if first {
				return string(seg), nil
			}
			out = append(out, seg...)
			p.buf = out
			return string(out), nil
		}
		out = append(out, seg...)
		p.buf = out
		// An escape at j.
		if j+1 >= len(b) {
			p.i = j + 1
			return "", p.errf("unterminated escape")
		}
		e := b[j+1]
		j += 2
		switch e {
		case '"', '\\', '/':
			out = append(out, e)
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'u':
			r, ok := hex4(b, j)
			if !ok {
				p.i = j
				return "", p.errf("bad \\u escape")
			}
			j += 4
			if utf16.IsSurrogate(r) {
				// A valid pair combines; a lone surrogate becomes U+FFFD (as encoding/json).
				r2, ok := rune(0), false
				if j+6 <= len(b) && b[j] == '\\' && b[j+1] == 'u' {
					r2, ok = hex4(b, j+2)
				}
				if dec := utf16.DecodeRune(r, r2); ok && dec != utf8.RuneError {
					r = dec
					j += 6
				} else {
					r = utf8.RuneError
				}
			}
			out = utf8.AppendRune(out, r)
		default:
			p.i = j - 1
			return "", p.errf("bad escape")
		}
	}
}

func hex4(b []byte, j int) (rune, bool) {
	if j+4 > len(b) {
		return 0, false
	}
	var r rune
	for _, c := range b[j : j+4] {
		switch {
		case c >= '0' && c <= '9':
			r = r<<4 | rune(c-'0')
		case c >= 'a' && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case c >= 'A' && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return 0, false
		}
	}
	return r, true
}

func (p *jsonParser) value() (any, error) {
	b := p.b
	if p.i >= len(b) {
		return nil, p.errf("expected a value")
	}
	switch c := b[p.i]; {
	case c == '"':
		return p.str()
	case c == '{':
		return p.object()
	case c == '[':
		return p.array()
	case c == 't':
		return true, p.literal("true")
	case c == 'f':
		return false, p.literal("false")
	case c == 'n':
		return nil, p.literal("null")
	case c == '-' || (c >= '0' && c <= '9'):
		return p.number()
	}
	return nil, p.errf("expected a value")
}

func (p *jsonParser) literal(word string) error {
	if !bytes.HasPrefix(p.b[p.i:], []byte(word)) {
		return p.errf("bad literal")
	}
	p.i += len(word)
	return nil
}

// number checks the JSON number grammar and returns it as a json.Number.
func (p *jsonParser) number() (any, error) {
	b := p.b
	start := p.i
	j := p.i
	if b[j] == '-' {
		j++
	}
	digits := func() int {
		k := j
		for j < len(b) && b[j] >= '0' && b[j] <= '9' {
			j++
		}
		return j - k
	}
	if j < len(b) && b[j] == '0' {
		j++
	} else if digits() == 0 {
		p.i = j
		return nil, p.errf("bad number")
	}
	if j < len(b) && b[j] == '.' {
		j++
		if digits() == 0 {
			p.i = j
			return nil, p.errf("bad number")
		}
	}
	if j < len(b) && (b[j] == 'e' || b[j] == 'E') {
		j++
		if j < len(b) && (b[j] == '+' || b[j] == '-') {
			j++
		}
		if digits() == 0 {
			p.i = j
			return nil, p.errf("bad number")
		}
	}
	p.i = j
	return json.Number(b[start:j]), nil
}

// controlByte returns the index of the first byte < 0x20 in b, or -1. It tests
// eight bytes at a time: x-0x20…20 borrows into the top bit of a byte exactly
// when that byte is below 0x20 (given no lower byte borrowed, hence the exact
// scan of a flagged word).
func controlByte(b []byte) int {
	const lo, hi = 0x2020202020202020, 0x8080808080808080
	i := 0
	for ; i+8 <= len(b); i += 8 {
		x := binary.LittleEndian.Uint64(b[i:])
		if (x-lo)&^x&hi != 0 {
			break
		}
	}
	for ; i < len(b); i++ {
		if b[i] < 0x20 {
			return i
		}
	}
	return -1
}
