package clean_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/golem-lm/golem/lmlib/clean"
	"github.com/golem-lm/golem/lmlib/data"
)

// A filter as a notebook cell: check one text and read why it would be dropped.
func ExampleGopherQualityFilter() {
	f := clean.NewGopherQualityFilter()
	fmt.Printf("%q\n", f.Check("Buy now! Click here."))
	text := strings.Repeat("The light of the sun is made of rays that differ in their refrangibility. ", 6)
	fmt.Printf("%q\n", f.Check(text))
	// Output:
	// "gopher_short_doc"
	// ""
}

// The whole FineWeb chain over a few documents, without a pipeline.
func ExampleFineWebSteps() {
	steps, err := clean.FineWebSteps(clean.FineWebOptions{HTML: true})
	if err != nil {
		panic(err)
	}
	page := "<p>Newton found that white light is a mixture of rays which the prism separates by their refrangibility. " +
		"He showed this with a second prism, which did not change the colour of any single ray.</p>" +
		"<p>The rays that are most refrangible give violet, and the least refrangible give red. " +
		"Between them lie the blue, the green, the yellow and the orange, in the order of the rainbow.</p>" +
		"<p>He wrote these letters to the Royal Society, and the quarrel with Hooke that followed lasted for years. " +
		"Contact me at isaac@trinity.example.org for copies of the letters.</p>" +
		"<p>It was only after the death of Hooke that the Opticks itself was printed, in the year 1704.</p>"
	docs := []*data.Doc{
		{ID: "a", Text: "<html><body><nav><a href='/'>Home</a></nav>" + page + "</body></html>"},
		{ID: "b", Text: "<html><body><nav><a href='/x'>Menu</a></nav>" + page + "</body></html>"},
		{ID: "c", Text: "<html><body><p>Le chat dort sur le canapé pendant que la pluie tombe.</p></body></html>"},
	}
	for _, d := range docs {
		drop := ""
		for _, s := range steps {
			if drop, err = s.Process(d); err != nil || drop != "" {
				break
			}
		}
		if drop != "" {
			fmt.Printf("%s dropped by %s\n", d.ID, drop)
			continue
		}
		fmt.Printf("%s kept, %s, %d paragraphs, PII replaced: %v\n", d.ID, d.Meta[data.MetaLanguage],
			strings.Count(d.Text, "\n")+1, strings.Contains(d.Text, "email@example.com"))
	}
	// Output:
	// a kept, en, 4 paragraphs, PII replaced: true
	// b dropped by minhash_duplicate
	// c dropped by language
}

// Words is the English word tokenizer datatrove's filters count with (spaCy's rules).
func ExampleWords() {
	fmt.Printf("%q\n", clean.Words(`"Don't panic," said Mr. Adams (at 10km/h)...`))
	// Output:
	// ["\"" "Do" "n't" "panic" "," "\"" "said" "Mr." "Adams" "(" "at" "10" "km/h" ")" "..."]
}

// MinHash near-duplicate clusters over a corpus, two-pass, as datatrove finds them.
func ExampleMinHashIndex() {
	idx, err := clean.NewMinHashIndex(clean.DefaultMinHashConfig(), "") // "" keeps buckets in memory
	if err != nil {
		panic(err)
	}
	defer idx.Close()
	base := "the rays of light which differ in refrangibility differ also in the colours " +
		"they exhibit and no reflection or refraction can change the colour of any sort of rays once they " +
		"are well separated from rays of other kinds for the colours of homogeneal light are permanent and " +
		"immutable while the whiteness of the sun is compounded of all the primary colours mixed in a due " +
		"proportion as appears by experiments with prisms lenses and papers painted with several colours " +
		"which were viewed in the light of the sun and in the darkened chamber of the college"
	idx.Add("1", base)
	idx.Add("2", strings.Replace(base, "colours", "colors", 1))
	idx.Add("3", "an entirely different text about the adventures of a boy on the river")
	clusters, _ := idx.Clusters()
	fmt.Println(clusters)
	// Output:
	// [[1 2]]
}

// HTML to main text: navigation, scripts and footers go, paragraphs stay.
func ExampleExtractor() {
	page := `<html><head><script>track()</script></head><body>
<nav><a href="/">Home</a> <a href="/news">News</a></nav>
<h1>Opticks</h1><p>Light is a mixture of rays &amp; colours.</p>
<footer>© 2026</footer></body></html>`
	text, err := clean.NewExtractor().Extract(page)
	if err != nil {
		panic(err)
	}
	fmt.Printf("%q\n", text)
	// Output:
	// "Opticks\n\nLight is a mixture of rays & colours."
}

// Normalisation reports broken encodings instead of hiding them.
func ExampleNormalizer() {
	d := &data.Doc{Text: "  Caf\u00c3\u00a9  menu\r\n\r\n\r\nprix:\t5 \xff  "}
	clean.NewNormalizer().Process(d)
	fmt.Printf("%+q %v\n", d.Text, d.Meta)
	// Output:
	// "Caf\u00c3\u00a9 menu\n\nprix: 5 \ufffd" map[invalid_utf8:1 mojibake:1]
}

// PII replacement follows datatrove: public addresses go, private ones stay.
func ExamplePIIFormatter() {
	fmt.Println(clean.NewPIIFormatter().Format("Mail ada@lovelace.example or ping 8.8.8.8, not 192.168.1.1."))
	// Output:
	// Mail email@example.com or ping 22.214.171.124, not 192.168.1.1.
}

// Language identification with a score, as metadata.
func ExampleLanguageFilter() {
	f := clean.NewLanguageFilter("en", "fr")
	for _, s := range []string{
		"The experiments with the prism showed that white light is a mixture of colours.",
		"Les expériences avec le prisme ont montré que la lumière blanche est un mélange de couleurs.",
		"Die Versuche mit dem Prisma zeigten, dass weißes Licht eine Mischung von Farben ist.",
	} {
		d := &data.Doc{Text: s}
		drop, _ := f.Process(d)
		fmt.Printf("%s %q\n", d.Meta[data.MetaLanguage], drop)
	}
	// Output:
	// en ""
	// fr ""
	// de "language"
}

// C4 edits the text: lines without terminal punctuation, too short, or about
// cookies go; the document needs five sentences left.
func ExampleC4QualityFilter() {
	text := "Home | About | Contact\n" +
		"Newton bought a prism at Stourbridge fair. He darkened his room.\n" +
		"He let a beam of sunlight in through a small hole. The beam fell on the prism. It spread.\n" +
		"This site uses cookies to improve your experience.\n" +
		"The image on the wall was oblong, not round. Share this"
	out, drop := clean.NewC4QualityFilter().Apply(text)
	fmt.Printf("%q %q\n", drop, out)
	// Output:
	// "" "Newton bought a prism at Stourbridge fair. He darkened his room.\nHe let a beam of sunlight in through a small hole. The beam fell on the prism. It spread."
}

// The cleaning chain as tasks in stages (here every stage as one task, in one
// process): MinHash finds the near-duplicates across all input shards, whatever
// the number of tasks each stage runs as.
func ExampleStagedRun() {
	dir, _ := os.MkdirTemp("", "staged")
	defer os.RemoveAll(dir)
	text := "the rays of light which differ in refrangibility differ also in the colours " +
		"they exhibit and no reflection or refraction can change the colour of any sort of rays once they " +
		"are well separated from rays of other kinds"
	os.WriteFile(filepath.Join(dir, "a.txt"), []byte(text), 0o644)
	os.WriteFile(filepath.Join(dir, "b.txt"), []byte(strings.Replace(text, "colours", "colors", 1)), 0o644)
	os.WriteFile(filepath.Join(dir, "c.txt"), []byte("a different text about a boy and a raft on a wide river in summer"), 0o644)
	dedup, _ := clean.NewMinHashDeduper(clean.DefaultMinHashConfig())
	run := &clean.StagedRun{Inputs: []string{filepath.Join(dir, "*.txt")}, Steps: []data.Step{dedup},
		Output: filepath.Join(dir, "out"), Quiet: true}
	stages, _ := run.Stages()
	fmt.Println(stages)
	st, err := run.Run(nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(st.Steps[0].Name, st.Steps[0].Dropped, "kept", st.Written)
	// Output:
	// [filter buckets clusters dedup merge]
	// minhash_dedup map[minhash_duplicate:1] kept 2
}
