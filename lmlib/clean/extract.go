package clean

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
	"golang.org/x/net/html/charset"

	"github.com/golem-lm/golem/lmlib/data"
)

// Extractor turns an HTML page into its main text: paragraphs, headings, list items,
// table cells and preformatted blocks become paragraphs separated by blank lines;
// script, style, noscript, nav, header, footer, aside, form and similar chrome are
// dropped with their content; entities are decoded. Blocks that look like navigation
// — mostly link text, or short link-only lines such as menus — are removed too.
type Extractor struct {
	// MaxLinkDensity drops a block whose linked text exceeds this share of its
	// characters (0.5). 0 disables the check.
	MaxLinkDensity float64
	// MinBlockWords drops a block with fewer words that is entirely a link (3).
	MinBlockWords int
}

// NewExtractor returns an extractor with the defaults.
func NewExtractor() *Extractor { return &Extractor{MaxLinkDensity: 0.5, MinBlockWords: 3} }

// Name implements data.Step.
func (e *Extractor) Name() string { return "extract" }

// Process implements data.Step: the document's HTML text is replaced by its main
// text; a page with no text left is dropped ("extract_empty").
func (e *Extractor) Process(d *data.Doc) (string, error) {
	text, err := e.Extract(d.Text)
	if err != nil {
		return "", fmt.Errorf("extract %s: %w", d.ID, err)
	}
	d.Text = text
	if text == "" {
		return "extract_empty", nil
	}
	return "", nil
}

var skipElems = map[atom.Atom]bool{
	atom.Script: true, atom.Style: true, atom.Noscript: true, atom.Nav: true, atom.Header: true,
	atom.Footer: true, atom.Aside: true, atom.Form: true, atom.Template: true, atom.Iframe: true,
	atom.Svg: true, atom.Canvas: true, atom.Button: true, atom.Select: true, atom.Textarea: true,
	atom.Head: true, atom.Object: true, atom.Embed: true, atom.Menu: true, atom.Dialog: true,
}

var blockElems = map[atom.Atom]bool{
	atom.P: true, atom.Div: true, atom.H1: true, atom.H2: true, atom.H3: true, atom.H4: true,
	atom.H5: true, atom.H6: true, atom.Li: true, atom.Dt: true, atom.Dd: true, atom.Blockquote: true,
	atom.Pre: true, atom.Td: true, atom.Th: true, atom.Tr: true, atom.Table: true, atom.Ul: true,
	atom.Ol: true, atom.Section: true, atom.Article: true, atom.Main: true, atom.Figcaption: true,
	atom.Caption: true, atom.Address: true, atom.Body: true, atom.Html: true, atom.Center: true,
	atom.Dl: true, atom.Fieldset: true, atom.Details: true, atom.Summary: true, atom.Hr: true,
}

type block struct {
	b        strings.Builder
	linkRune int
	pre      bool
}

// Extract returns the main text of an HTML document. A page that is not valid UTF-8
// is decoded from the charset its <meta> declares (Windows-1252 when none).
func (e *Extractor) Extract(page string) (string, error) {
	if !utf8.ValidString(page) {
		enc, name, _ := charset.DetermineEncoding([]byte(page), "text/html")
		dec, err := enc.NewDecoder().String(page)
		if err != nil {
			return "", fmt.Errorf("decode HTML from %s: %w", name, err)
		}
		page = strings.ToValidUTF8(dec, "\uFFFD")
	}
	root, err := html.Parse(strings.NewReader(page))
	if err != nil {
		return "", err
	}
	var paras []string
	cur := &block{}
	flush := func() {
		text := cur.b.String()
		if !cur.pre {
			text = strings.Join(strings.FieldsFunc(text, pyIsSpace), " ")
		} else {
			text = strings.Trim(text, "\n")
		}
		if strings.TrimSpace(text) != "" && !e.boilerplate(text, cur.linkRune) {
			paras = append(paras, text)
		}
		cur = &block{}
	}
	var walk func(n *html.Node, inLink, inPre bool)
	walk = func(n *html.Node, inLink, inPre bool) {
		switch n.Type {
		case html.TextNode:
			cur.b.WriteString(n.Data)
			if inPre {
				cur.pre = true
			}
			if inLink {
				cur.linkRune += utf8.RuneCountInString(strings.TrimSpace(n.Data))
			}
			return
		case html.ElementNode:
			if skipElems[n.DataAtom] || hasHiddenAttr(n) {
				return
			}
			if n.DataAtom == atom.Br {
				cur.b.WriteByte('\n')
				if !inPre {
					flush()
				}
				return
			}
		case html.CommentNode, html.DoctypeNode:
			return
		}
		isBlock := n.Type == html.ElementNode && blockElems[n.DataAtom]
		if isBlock {
			flush()
		}
		link := inLink || (n.Type == html.ElementNode && n.DataAtom == atom.A)
		pre := inPre || (n.Type == html.ElementNode && n.DataAtom == atom.Pre)
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c, link, pre)
		}
		if n.Type == html.ElementNode && !isBlock && (n.DataAtom == atom.Img || n.DataAtom == atom.Span || n.DataAtom == atom.A) {
			cur.b.WriteByte(' ')
		}
		if isBlock {
			flush()
		}
	}
	walk(root, false, false)
	flush()
	return strings.Join(paras, "\n\n"), nil
}

func hasHiddenAttr(n *html.Node) bool {
	for _, a := range n.Attr {
		switch a.Key {
		case "hidden":
			return true
		case "aria-hidden":
			if a.Val == "true" {
				return true
			}
		case "style":
			s := strings.ReplaceAll(strings.ToLower(a.Val), " ", "")
			if strings.Contains(s, "display:none") || strings.Contains(s, "visibility:hidden") {
				return true
			}
		case "role":
			if a.Val == "navigation" || a.Val == "banner" || a.Val == "contentinfo" {
				return true
			}
		}
	}
	return false
}

// boilerplate reports a block that is mostly links, or a short all-link line.
func (e *Extractor) boilerplate(text string, linkRunes int) bool {
	if linkRunes == 0 {
		return false
	}
	total := 0
	for _, r := range text {
		if !pyIsSpace(r) {
			total++
		}
	}
	if total == 0 {
		return true
	}
	density := float64(linkRunes) / float64(total)
	if e.MaxLinkDensity > 0 && density > e.MaxLinkDensity {
		return true
	}
	if e.MinBlockWords > 0 && density >= 0.99 && len(strings.Fields(text)) < e.MinBlockWords {
		return true
	}
	return false
}
