package clean

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/golem-lm/golem/internal/assets"
	"github.com/golem-lm/golem/lmlib/data"
)

func TestPIIMatchesDatatrove(t *testing.T) {
	type piiCase struct {
		In  string `json:"in"`
		Out string `json:"out"`
	}
	var cases []piiCase
	readGzipJSONL(t, "pii.json.gz", func(line []byte) {
		var c piiCase
		if err := json.Unmarshal(line, &c); err != nil {
			t.Fatal(err)
		}
		cases = append(cases, c)
	})
	p := NewPIIFormatter()
	for _, c := range cases {
		if got := p.Format(c.In); got != c.Out {
			t.Errorf("Format(%q)\n got %q\nwant %q (datatrove)", c.In, got, c.Out)
		}
	}
	// PerDocument: the lists restart at each document, so the result does not
	// depend on what was formatted before.
	pd := NewPIIFormatter()
	pd.PerDocument = true
	for i := 0; i < 3; i++ {
		if got := pd.Format("a@b.example.com, c@d.example.com and 8.8.8.8"); got != "email@example.com, firstname.lastname@example.org and 22.214.171.124" {
			t.Fatalf("PerDocument call %d: %q", i, got)
		}
	}
	// IPv6: public replaced, private kept (datatrove has no IPv6 rule)
	q := NewPIIFormatter()
	got := q.Format("v6 2606:4700:4700::1111 and fe80::1 and fd00::5")
	if strings.Contains(got, "2606:4700") || !strings.Contains(got, "fe80::1") || !strings.Contains(got, "fd00::5") {
		t.Errorf("IPv6: %q", got)
	}
}

func TestLanguageIDAccuracy(t *testing.T) {
	type sample struct {
		Lang string `json:"lang"`
		Text string `json:"text"`
	}
	var samples []sample
	readGzipJSONL(t, "lang_samples.jsonl.gz", func(line []byte) {
		var s sample
		if err := json.Unmarshal(line, &s); err != nil {
			t.Fatal(err)
		}
		samples = append(samples, s)
	})
	// English: held-out paragraphs of Tom Sawyer
	tom, err := assets.TomSawyer()
	if err != nil {
		t.Skip(err)
	}
	b, err := os.ReadFile(tom)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, p := range strings.Split(strings.ReplaceAll(string(b), "\r\n", "\n"), "\n\n") {
		p = strings.TrimSpace(p)
		if len(p) >= 120 && n < 60 {
			samples = append(samples, sample{"en", p})
			n++
		}
	}
	f := NewLanguageFilter()
	perLang := map[string][2]int{}
	correct := 0
	for _, s := range samples {
		got, _ := f.Detect(s.Text)
		c := perLang[s.Lang]
		c[1]++
		if got == s.Lang {
			c[0]++
			correct++
		}
		perLang[s.Lang] = c
	}
	for l, c := range perLang {
		t.Logf("language %s: %d/%d correct", l, c[0], c[1])
	}
	acc := float64(correct) / float64(len(samples))
	t.Logf("language ID accuracy %.1f%% over %d held-out samples", 100*acc, len(samples))
	if acc < 0.94 {
		t.Errorf("language ID accuracy %.1f%%, want ≥ 94%%", 100*acc)
	}
	// English prose passes the default filter, French does not.
	d := &data.Doc{Text: "The old man walked slowly down to the harbour, where the boats were waiting for the morning tide."}
	if r, _ := f.Process(d); r != "" || d.MetaString(data.MetaLanguage) != "en" {
		t.Errorf("English dropped: %q meta %v", r, d.Meta)
	}
	d = &data.Doc{Text: "Le vieil homme descendit lentement vers le port, où les bateaux attendaient la marée du matin."}
	if r, _ := f.Process(d); r != "language" {
		t.Errorf("French: reason %q meta %v", r, d.Meta)
	}
}

func TestExtractHTML(t *testing.T) {
	page := `<html><head><title>T</title><style>p{color:red}</style><script>var x = 1;</script></head>
<body><nav><a href="/">Home</a> <a href="/a">About</a></nav>
<header>Site header</header>
<h1>Main &amp; title</h1>
<p>First paragraph with <b>bold</b> text and a <a href="x">link</a> inside it.</p>
<div class="menu"><a href="/1">One</a> | <a href="/2">Two</a> | <a href="/3">Three</a></div>
<ul><li>Item one is here</li><li>Item two is there</li></ul>
<pre>code  line 1
  indented</pre>
<p style="display:none">hidden text</p>
<footer>Copyright</footer></body></html>`
	got, err := NewExtractor().Extract(page)
	if err != nil {
		t.Fatal(err)
	}
	want := "Main & title\n\nFirst paragraph with bold text and a link inside it.\n\nItem one is here\n\nItem two is there\n\ncode  line 1\n  indented"
	if got != want {
		t.Errorf("Extract:\n got %q\nwant %q", got, want)
	}
	// the real page that ships with the compress module
	p, err := assets.HTMLText()
	if err != nil {
		t.Skip(err)
	}
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	text, err := NewExtractor().Extract(string(b))
	if err != nil {
		t.Fatal(err)
	}
	// html.txt is a Latin-1 bank home page made almost entirely of menus: the
	// extractor must decode it and drop the link lists, scripts and form.
	for _, bad := range []string{"cmSetClientID", "<script", "function(", "Xt_marche", "Recrutement", "Nos tarifs", "Simulateurs", "OK"} {
		if strings.Contains(text, bad) {
			t.Errorf("html.txt extraction kept %q:\n%s", bad, text)
		}
	}
	if !strings.Contains(text, "Crédit Agricole") {
		t.Errorf("html.txt: charset not decoded or title lost: %q", text)
	}
}

func TestNormalize(t *testing.T) {
	n := NewNormalizer()
	tests := []struct {
		in, want              string
		invalid, repl, mojibk int
	}{
		{"  a  b\t\tc \r\nnext\u00a0line\n\n\n\nend  ", "a b c\nnext line\n\nend", 0, 0, 0},
		{"cafe\u0301", "café", 0, 0, 0},
		{"bad \xff\xfe byte", "bad \ufffd\ufffd byte", 2, 0, 0},
		{"caf\u00c3\u00a9 and \u00e2\u20ac\u2122", "caf\u00c3\u00a9 and \u00e2\u20ac\u2122", 0, 0, 2},
		{"zero\u200bwidth\x07bell", "zerowidthbell", 0, 0, 0},
		{"already \ufffd", "already \ufffd", 0, 1, 0},
	}
	for _, tc := range tests {
		got, rep := n.Normalize(tc.in)
		if got != tc.want || rep.InvalidUTF8 != tc.invalid || rep.Replacement != tc.repl || rep.Mojibake != tc.mojibk {
			t.Errorf("Normalize(%q) = %q %+v, want %q invalid=%d repl=%d mojibake=%d", tc.in, got, rep, tc.want, tc.invalid, tc.repl, tc.mojibk)
		}
	}
	d := &data.Doc{Text: "caf\u00c3\u00a9 \xff"}
	if _, err := n.Process(d); err != nil || d.Meta[MetaMojibake] != 1 || d.Meta[MetaInvalidUTF8] != 1 {
		t.Errorf("Process meta %v", d.Meta)
	}
}

func TestURLLengthWordList(t *testing.T) {
	// datatrove's URLFilter(use_integrated_lists=False) on the same lists (gen_datatrove.py)
	var uv struct {
		Lists map[string][]string            `json:"lists"`
		Cases []struct{ URL, Reason string } `json:"cases"`
	}
	readGzipJSON(t, "url_filter.json.gz", &uv)
	u := &URLFilter{Domains: uv.Lists["extra_domains"], URLs: uv.Lists["extra_urls"], BannedWords: uv.Lists["banned_words"],
		SoftBannedWords: uv.Lists["soft_banned_words"], BannedSubwords: uv.Lists["banned_subwords"]}
	// golem compares host names case-insensitively; datatrove does not
	deviation := map[string]string{"http://BLOCKED-SITE.com": "domain"}
	for _, c := range uv.Cases {
		want := c.Reason
		if w, ok := deviation[c.URL]; ok {
			want = w
		}
		d := &data.Doc{Text: "x"}
		d.SetMeta(data.MetaURL, c.URL)
		if got, _ := u.Process(d); got != want {
			t.Errorf("URLFilter(%q) = %q, want %q (datatrove %q)", c.URL, got, want, c.Reason)
		}
	}
	if got, _ := u.Process(&data.Doc{Text: "no url"}); got != "" {
		t.Errorf("document without URL dropped: %q", got)
	}
	l := &LengthFilter{MinChars: 5, MaxChars: 7}
	for _, c := range []struct{ text, want string }{{"abcd", "too_short"}, {"abcde", ""}, {"ééééééé", ""}, {"abcdefgh", "too_long"}} {
		if got, _ := l.Process(&data.Doc{Text: c.text}); got != c.want {
			t.Errorf("LengthFilter(%q) = %q, want %q", c.text, got, c.want)
		}
	}
	w, err := NewWordListFilter([]string{"forbidden", "two words"})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ text, want string }{
		{"a Forbidden thing", "word_list"}, {"forbidden", "word_list"}, {"unforbiddenly", ""},
		{"say two words now", "word_list"}, {"two wordsmiths", ""}, {"forbidden1", ""}, {"x_forbidden", ""},
		{"(forbidden)", "word_list"}, {"ça forbidden!", "word_list"},
	} {
		if got, _ := w.Process(&data.Doc{Text: c.text}); got != c.want {
			t.Errorf("WordListFilter(%q) = %q, want %q", c.text, got, c.want)
		}
	}
	if _, err := NewWordListFilter(nil); err == nil {
		t.Error("empty word list accepted")
	}
}

func TestExactAndSentenceDedup(t *testing.T) {
	e := &ExactDedup{Simplify: true}
	texts := []string{"Hello, World! 2024", "hello world 1999", "Something else"}
	want := []string{"", "exact_duplicate", ""}
	for i, s := range texts {
		if got, _ := e.Process(&data.Doc{Text: s}); got != want[i] {
			t.Errorf("ExactDedup(%q) = %q, want %q", s, got, want[i])
		}
	}
	s := NewSentenceDedup()
	s.MinDocWords, s.MinSentences = 5, 1
	a := "One sentence is here. Two sentences are here. Three sentences are here. Four is unique to a."
	b := "Intro for b is new. One sentence is here. Two sentences are here. Three sentences are here. End of b is new too."
	if r, _ := s.Process(&data.Doc{Text: a}); r != "" {
		t.Fatalf("first doc dropped: %s", r)
	}
	d := &data.Doc{Text: b}
	if r, _ := s.Process(d); r != "" {
		t.Fatalf("second doc dropped: %s", r)
	}
	if d.Text != "Intro for b is new. End of b is new too." {
		t.Errorf("sentence dedup left %q", d.Text)
	}
}

func TestFineWebSteps(t *testing.T) {
	steps, err := FineWebSteps(FineWebOptions{HTML: true, URLFilter: &URLFilter{Domains: []string{"spam.example"}}})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, s := range steps {
		names = append(names, s.Name())
	}
	want := "extract url language gopher_repetition gopher_quality c4_quality fineweb_quality minhash_dedup pii"
	if strings.Join(names, " ") != want {
		t.Errorf("FineWebSteps = %v, want %s", names, want)
	}
}

func TestFineWebStepsAnyLanguage(t *testing.T) {
	steps, err := FineWebSteps(FineWebOptions{Languages: []string{"any"}, NoMinHash: true, NoPII: true})
	if err != nil {
		t.Fatal(err)
	}
	d := &data.Doc{Text: "Le vieil homme descendit lentement vers le port, où les bateaux attendaient la marée du matin."}
	if drop, _ := steps[0].Process(d); drop != "" || d.Meta[data.MetaLanguage] != "fr" {
		t.Errorf("any language: drop %q meta %v", drop, d.Meta)
	}
}

func TestExtractCases(t *testing.T) {
	e := NewExtractor()
	tests := []struct{ name, page, want string }{
		{"entities and inline (nbsp is whitespace)", `<p>Fish &amp; chips&nbsp;are <i>good</i>&#33;</p>`, "Fish & chips are good!"},
		{"br splits paragraphs", `<p>line one<br>line two</p>`, "line one\n\nline two"},
		{"nested lists", `<ul><li>alpha item<ul><li>beta item</li></ul></li></ul>`, "alpha item\n\nbeta item"},
		{"table cells", `<table><tr><td>cell one here</td><td>cell two here</td></tr></table>`, "cell one here\n\ncell two here"},
		{"link-dense block dropped", `<div><a href=1>One</a> <a href=2>Two</a> <a href=3>Three</a> and</div><p>Body text stays here.</p>`, "Body text stays here."},
		{"link inside prose kept", `<p>See <a href=x>the manual</a> for the details of every option.</p>`, "See the manual for the details of every option."},
		{"hidden and aria", `<p hidden>h1</p><p aria-hidden="true">h2</p><div role="navigation">nav</div><p>shown</p>`, "shown"},
		{"comments and noscript", `<!-- c --><noscript>enable js</noscript><p>text</p>`, "text"},
		{"empty page", `<html><head><title>t</title></head><body></body></html>`, ""},
		{"plain text", `just some text`, "just some text"},
	}
	for _, tc := range tests {
		got, err := e.Extract(tc.page)
		if err != nil || got != tc.want {
			t.Errorf("%s: Extract = %q, %v; want %q", tc.name, got, err, tc.want)
		}
	}
	d := &data.Doc{ID: "x", Text: "<script>only()</script>"}
	if drop, err := e.Process(d); drop != "extract_empty" || err != nil {
		t.Errorf("empty page: drop %q err %v", drop, err)
	}
}
