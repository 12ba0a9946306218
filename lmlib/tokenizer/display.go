package tokenizer

import (
	"fmt"
	"html"
	"sort"
	"strconv"
	"strings"

	"github.com/golem-lm/golem/display"
)

// DisplayBundle shows the tokenizer as a small table when it is a cell's result.
func (t *Tokenizer) DisplayBundle() display.Bundle {
	specials := make([]string, 0, len(t.specials))
	for s, id := range t.specials {
		specials = append(specials, fmt.Sprintf("%s=%d", s, id))
	}
	sort.Strings(specials)
	return display.Table([]string{"vocabulary", "ids", "pattern", "special tokens"}, [][]string{{
		t.name, strconv.Itoa(len(t.tokens)), t.pattern, strings.Join(specials, " ")}})
}

// Visualize encodes text (special tokens allowed) and shows each token with its id:
// coloured spans in a notebook, "token|token" with ids as plain text.
func (t *Tokenizer) Visualize(text string) (display.Bundle, error) {
	ids, err := t.EncodeAllowed(text, AllSpecial)
	if err != nil {
		return nil, err
	}
	colors := []string{"#fde2e4", "#e2ece9", "#dfe7fd", "#fff1c1", "#e8dff5"}
	var h, p strings.Builder
	fmt.Fprintf(&h, `<div style="font-family:monospace;white-space:pre-wrap;line-height:1.8">`)
	for i, id := range ids {
		b, _ := t.TokenBytes(id)
		s := strings.ToValidUTF8(string(b), "\uFFFD")
		fmt.Fprintf(&h, `<span title="%d" style="background:%s;border-radius:3px">%s</span>`, id, colors[i%len(colors)], html.EscapeString(s))
		if i > 0 {
			p.WriteByte('|')
		}
		p.WriteString(strconv.Quote(s))
	}
	fmt.Fprintf(&h, `</div><div>%d tokens, %d bytes</div>`, len(ids), len(text))
	fmt.Fprintf(&p, "\n%v\n%d tokens, %d bytes", ids, len(ids), len(text))
	return display.Bundle{"text/html": h.String(), "text/plain": p.String()}, nil
}
