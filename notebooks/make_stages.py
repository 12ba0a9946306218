"""Write one notebook per pipeline stage into notebooks/: each runs alone, with a
`parameters` cell whose defaults run in a few minutes on 2 cores, on text that ships
with the tools (nothing is downloaded).

  01_collect_clean.ipynb  books, HTML pages, a WARC file and Go source (code) -> cleaned JSONL
  02_tokenizer.ipynb      train a byte-level BPE, inspect it, compare with gpt2 and cl100k_base
  03_pretrain.ipynb       token shards, a GPT trained with a live chart, resumed from its checkpoint
  04_evaluate.ipynb       loss, bits per byte, lm-eval task tables, samples
  05_finetune.ipynb       fine-tune on prompt/completion pairs, completion loss before and after
  06_deploy.ipynb         golem serve: %%deploy a cleaning function, call it, a batch job, a built-in

Run: .venv/bin/python notebooks/make_stages.py   (tests/test_notebooks.py executes them with papermill)
"""
from nbgen import check, code, md, params, write



# The small corpus the later stages start from when run alone: the two books cut
# into documents of about 300 words, a tenth held out by a seeded hash of the id.
BOOKS = '''
import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/golem-lm/golem/lmlib/data"
	"github.com/golem-lm/golem/lmlib/shard"
)

// bookDocs cuts a shipped book into documents of about words words.
func bookDocs(name string, words int) []data.Doc {
	path, err := data.Shipped(name)
	if err != nil {
		panic(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		panic(err)
	}
	var docs []data.Doc
	var chunk []string
	n := 0
	for _, para := range strings.Split(strings.ReplaceAll(string(b), "\\r\\n", "\\n"), "\\n\\n") {
		chunk = append(chunk, strings.Join(strings.Fields(para), " "))
		n += len(strings.Fields(para))
		if n >= words {
			docs = append(docs, data.Doc{ID: fmt.Sprintf("%s/%04d", name, len(docs)), Text: strings.Join(chunk, "\\n\\n")})
			chunk, n = nil, 0
		}
	}
	return docs
}

var trainTexts, valTexts []string
for _, book := range []string{"opticks", "tom-sawyer"} {
	for _, d := range bookDocs(book, 300) {
		if shard.IsValidation(d.ID, 1, 0.1) {
			valTexts = append(valTexts, d.Text)
		} else {
			trainTexts = append(trainTexts, d.Text)
		}
	}
}
os.MkdirAll(outDir, 0o755)
fmt.Printf("%d training and %d validation documents\\n", len(trainTexts), len(valTexts))
'''

# A tokenizer and token shards from the corpus above, and a small GPT pretrained on
# them (the evaluate and fine-tune notebooks start here when given no checkpoint).
PRETRAIN_QUICK = '''
import (
	"github.com/golem-lm/golem/lmlib/gpt"
	"github.com/golem-lm/golem/lmlib/tokenizer"
	"github.com/golem-lm/golem/lmlib/train"
)

tok, err := tokenizer.Train(trainTexts, tokenizer.TrainOptions{VocabSize: 1024, SpecialTokens: []string{"<|endoftext|>"}})
''' + check() + '''sw, err := shard.NewWriter(filepath.Join(outDir, "shards"), tok, shard.WriterOptions{Prefix: "books", ValFraction: 0.1, Seed: 1})
''' + check() + '''for i, t := range append(append([]string{}, trainTexts...), valTexts...) {
	err = sw.Add(fmt.Sprint(i), t)
	if err != nil {
		panic(err)
	}
}
shards, err := sw.Close()
''' + check() + '''cfg := gpt.Config{VocabSize: tok.VocabSize(), ContextLen: 128, Layers: 4, Heads: 4, Width: 128, Bias: true}
model, err := gpt.New(cfg, 1)
''' + check() + '''trainL, err := shard.NewLoader(shards.TrainShards, shard.LoaderOptions{B: 8, T: 128, Shuffle: true, Seed: 1, VocabSize: cfg.VocabSize})
''' + check() + '''valL, err := shard.NewLoader(shards.ValShards, shard.LoaderOptions{B: 8, T: 128, VocabSize: cfg.VocabSize})
''' + check() + '''runDir := filepath.Join(outDir, "run")
os.MkdirAll(runDir, 0o755)
err = tok.SaveHF(filepath.Join(runDir, "tokenizer.json"))
''' + check() + '''pre, err := train.Train(model, trainL, valL, train.Options{MaxSteps: pretrainSteps, LR: 2e-3, EvalEvery: 100, EvalBatches: 10, CheckpointDir: runDir})
''' + check() + '''fmt.Println("pretrained:", pre)
'''


def load_or_pretrain(*packages):
    """Two cells: load the model and tokenizer of the `checkpoint` parameter, importing
    lmlib's gpt, tokenizer, train and the given packages; else pretrain a small one."""
    imports = "".join(f'\t"github.com/golem-lm/golem/lmlib/{p}"\n' for p in sorted({*packages, "gpt", "tokenizer", "train"}))
    pretrain = PRETRAIN_QUICK.replace("tok, err :=", "tok, err =").replace("model, err :=", "model, err =").replace(
        "pre, err :=", "pre, err =").strip("\n").split("\n")[6:]
    return [
        code('''
import (
''' + imports + ''')

var model *gpt.Model
var tok *tokenizer.Tokenizer
var err error
if checkpoint != "" {
	model, err = train.LoadModel(checkpoint)
	if err != nil {
		panic(err)
	}
	tok, err = tokenizer.Load(filepath.Join(filepath.Dir(checkpoint), "tokenizer.json"))
	if err != nil {
		panic(err)
	}
	fmt.Println("loaded", checkpoint)
}'''),
        code('''
var pre *train.Result
if model == nil {
''' + "\n".join("\t" + l if l else l for l in pretrain) + '''
}'''),
    ]

notebooks = {}

notebooks["01_collect_clean"] = [
    md("# Collect and clean: books, web pages, a WARC file and code\n\n"
       "Pretraining corpora mix web pages, books and code. This notebook collects all four kinds from text that "
       "ships with the tools — Newton's *Opticks* and Twain's *Tom Sawyer*, a real HTML page, a WARC file made "
       "from pages, and Go source from the toolchain — and cleans each the way the field does: FineWeb's chain "
       "for prose and pages (HTML extraction, language ID, Gopher, C4, FineWeb filters, MinHash dedup, PII), "
       "length and exact-duplicate filters for code."),
    params('outDir := "../out/collect_clean" // everything this notebook writes\n'
           'bookWords := 300                  // words per book document\n'
           'goFiles := 400                    // Go source files taken from the toolchain'),
    md("## Books\nEach book is cut into documents of about `bookWords` words, written as JSONL in datatrove's layout, "
       "then cleaned by FineWeb's chain. The table is what each stage kept and why it dropped the rest."),
    code('''
import (
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/golem-lm/golem/lmlib/clean"
	"github.com/golem-lm/golem/lmlib/data"
)

// writeJSONL writes documents to a JSONL file.
func writeJSONL(path string, docs []data.Doc) {
	os.MkdirAll(filepath.Dir(path), 0o755)
	f, err := os.Create(path)
	if err != nil {
		panic(err)
	}
	enc := json.NewEncoder(f)
	for _, d := range docs {
		enc.Encode(d)
	}
	f.Close()
}

// bookDocs cuts a shipped book into documents of about words words.
func bookDocs(name string, words int) []data.Doc {
	path, err := data.Shipped(name)
	if err != nil {
		panic(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		panic(err)
	}
	var docs []data.Doc
	var chunk []string
	n := 0
	for _, para := range strings.Split(strings.ReplaceAll(string(b), "\\r\\n", "\\n"), "\\n\\n") {
		chunk = append(chunk, strings.Join(strings.Fields(para), " "))
		n += len(strings.Fields(para))
		if n >= words {
			docs = append(docs, data.Doc{ID: fmt.Sprintf("%s/%04d", name, len(docs)), Text: strings.Join(chunk, "\\n\\n"),
				Meta: map[string]any{"kind": "book"}})
			chunk, n = nil, 0
		}
	}
	return docs
}

os.RemoveAll(outDir)
books := append(bookDocs("opticks", bookWords), bookDocs("tom-sawyer", bookWords)...)
writeJSONL(filepath.Join(outDir, "raw", "books", "books.jsonl"), books)
prose, err := clean.FineWebSteps(clean.FineWebOptions{Languages: []string{"en"}})
''' + check() + '''bookStats, err := (&data.Pipeline{Inputs: []string{filepath.Join(outDir, "raw", "books")}, Steps: prose,
	Output: filepath.Join(outDir, "clean", "books"), Format: data.OutJSONL, Quiet: true}).Run(context.Background())
''' + check() + '''bookStats'''),
    md("## Web pages, as a crawler stores them: a WARC file\n\nA WARC file holds HTTP responses. This one holds the "
       "real French page that ships with the tools (windows-1252, no declared charset) and two English pages made "
       "from *Opticks* with navigation boilerplate around them. The WARC reader strips the HTTP headers and decodes "
       "the charset; the extractor drops the boilerplate; the language filter keeps English and French here."),
    code('''
// warcRecord is one WARC response record holding an HTML page.
func warcRecord(url, html string, n int) string {
	http := "HTTP/1.1 200 OK\\r\\nContent-Type: text/html\\r\\n\\r\\n" + html
	return fmt.Sprintf("WARC/1.0\\r\\nWARC-Type: response\\r\\nWARC-Record-ID: <urn:uuid:00000000-0000-0000-0000-%012d>\\r\\n"+
		"WARC-Target-URI: %s\\r\\nWARC-Date: 2024-05-01T12:00:00Z\\r\\nContent-Type: application/http; msgtype=response\\r\\n"+
		"Content-Length: %d\\r\\n\\r\\n%s\\r\\n\\r\\n", n, url, len(http), http)
}

htmlPath, err := data.Shipped("html")
''' + check() + '''page, err := os.ReadFile(htmlPath)
''' + check() + '''var warc strings.Builder
warc.WriteString(warcRecord("http://www.example.fr/page", string(page), 1))
for i, d := range books[10:12] {
	body := "<html><body><nav><a href=/>Home</a> <a href=/books>Books</a> <a href=/about>About</a></nav><article>"
	for _, p := range strings.Split(d.Text, "\\n\\n") {
		body += "<p>" + p + "</p>"
	}
	body += "</article><footer><a href=/privacy>Privacy</a> <a href=/terms>Terms</a></footer></body></html>"
	warc.WriteString(warcRecord(fmt.Sprintf("http://books.example.org/opticks/%d", i), body, i+2))
}
os.MkdirAll(filepath.Join(outDir, "raw", "web"), 0o755)
err = os.WriteFile(filepath.Join(outDir, "raw", "web", "pages.warc"), []byte(warc.String()), 0o644)
''' + check() + '''web, err := clean.FineWebSteps(clean.FineWebOptions{HTML: true, Languages: []string{"en", "fr"}})
''' + check() + '''webStats, err := (&data.Pipeline{Inputs: []string{filepath.Join(outDir, "raw", "web")}, Steps: web,
	Output: filepath.Join(outDir, "clean", "web"), Format: data.OutJSONL, Quiet: true}).Run(context.Background())
''' + check() + '''webStats'''),
    md("## Code: Go source from the toolchain\n\nThe Go standard library's source (it ships with Go) becomes one document "
       "per file. Prose filters would drop code for its punctuation and short lines, so code gets its own: length "
       "limits, exact dedup and PII."),
    code('''
goRoot, err := data.Shipped("go-source")
''' + check() + '''var goPaths []string
filepath.WalkDir(goRoot, func(p string, d fs.DirEntry, err error) error {
	if err != nil {
		return err
	}
	if d.IsDir() && (d.Name() == "testdata" || d.Name() == "vendor") {
		return filepath.SkipDir
	}
	if !d.IsDir() && strings.HasSuffix(p, ".go") && !strings.HasSuffix(p, "_test.go") {
		goPaths = append(goPaths, p)
	}
	return nil
})
sort.Strings(goPaths)
step := len(goPaths) / goFiles
if step < 1 {
	step = 1
}
var code []data.Doc
for i := 0; i < len(goPaths) && len(code) < goFiles; i += step {
	b, err := os.ReadFile(goPaths[i])
	if err != nil {
		panic(err)
	}
	rel, _ := filepath.Rel(goRoot, goPaths[i])
	code = append(code, data.Doc{ID: rel, Text: string(b), Meta: map[string]any{"kind": "code", "lang": "go"}})
}
writeJSONL(filepath.Join(outDir, "raw", "code", "go.jsonl"), code)
codeSteps := []data.Step{&clean.LengthFilter{MinChars: 200, MaxChars: 100000}, &clean.ExactDedup{}, clean.NewPIIFormatter()}
codeStats, err := (&data.Pipeline{Inputs: []string{filepath.Join(outDir, "raw", "code")}, Steps: codeSteps,
	Output: filepath.Join(outDir, "clean", "code"), Format: data.OutJSONL, Quiet: true}).Run(context.Background())
''' + check() + '''codeStats'''),
    md("## The mixed corpus\nWhat each source contributes after cleaning (a slice of structs shows as a table), and a "
       "few of the kept documents."),
    code('''
type Source struct {
	Kind      string
	Raw, Kept int
	KeptMB    float64
}
var corpus []*data.Doc
var mix []Source
for _, kind := range []string{"books", "web", "code"} {
	r, err := data.Open(filepath.Join(outDir, "clean", kind), data.ReadOptions{})
	if err != nil {
		panic(err)
	}
	docs, err := data.ReadAll(r)
	if err != nil {
		panic(err)
	}
	raw := map[string]int{"books": len(books), "web": 3, "code": len(code)}[kind]
	bytes := 0
	for _, d := range docs {
		bytes += len(d.Text)
	}
	mix = append(mix, Source{kind, raw, len(docs), float64(bytes) / 1e6})
	corpus = append(corpus, docs...)
}
fmt.Printf("%d documents in the cleaned corpus\\n", len(corpus))
mix'''),
    code('''
sample := []*data.Doc{corpus[0], corpus[len(corpus)/4]}
for _, d := range corpus {
	if d.Meta["kind"] == "code" || strings.HasPrefix(d.ID, "<urn") {
		sample = append(sample, d)
		if len(sample) == 5 {
			break
		}
	}
}
sample'''),
]

notebooks["02_tokenizer"] = [
    md("# Tokenizer: train a byte-level BPE, inspect it, compare it\n\n"
       "GPT-2's byte-level BPE, trained on the books that ship with the tools, then compared with the real GPT-2 "
       "and cl100k_base vocabularies (identical ids to tiktoken) on held-out prose and on Go code."),
    params('outDir := "../out/tokenizer" // everything this notebook writes\n'
           'vocabSize := 2048                // BPE vocabulary to learn'),
    code(BOOKS),
    md("## Train\nThe merges are learned from the training documents only."),
    code('''
import "github.com/golem-lm/golem/lmlib/tokenizer"

tok, err := tokenizer.Train(trainTexts, tokenizer.TrainOptions{VocabSize: vocabSize, SpecialTokens: []string{"<|endoftext|>"}})
''' + check() + '''tok'''),
    md("## Inspect\nEach token is a coloured span; hover for its id."),
    code('tok.Visualize("Light is refracted by the Prism, said Tom, and the Colours are separated.")'),
    code('tok.Visualize("func Handle(ctx context.Context, in Input) (Output, error) {")'),
    md("## Compare\nTokens per byte on held-out prose and on Go source: fewer is better (more text per context "
       "window). How does a small vocabulary learned from two books fare against GPT-2's 50,257 tokens and "
       "cl100k_base's 100,277, both learned from the web (cl100k_base also from code)?"),
    code('''
gpt2, err := tokenizer.Load("gpt2")
''' + check() + '''cl100k, err := tokenizer.Load("cl100k_base")
''' + check() + '''goRoot, err := data.Shipped("go-source")
''' + check() + '''goSrc, err := os.ReadFile(filepath.Join(goRoot, "strings", "strings.go"))
''' + check() + '''prose := strings.Join(valTexts, "\\n\\n")
type Row struct {
	Tokenizer                 string
	Vocabulary                int
	ProseTokensPerByte        float64
	CodeTokensPerByte         float64
}
var rows []Row
for _, t := range []*tokenizer.Tokenizer{tok, gpt2, cl100k} {
	p, c := t.EncodeOrdinary(prose), t.EncodeOrdinary(string(goSrc))
	rows = append(rows, Row{t.Name(), t.VocabSize(), float64(len(p)) / float64(len(prose)), float64(len(c)) / float64(len(goSrc))})
}
rows'''),
    code('gpt2.Visualize("func Handle(ctx context.Context, in Input) (Output, error) {")'),
    md("## Save\nAs a Hugging Face `tokenizer.json` (what `golem train` and `golem export hf` use), read back and checked."),
    code('''
path := filepath.Join(outDir, "tokenizer.json")
err = tok.SaveHF(path)
''' + check() + '''back, err := tokenizer.Load(path)
''' + check() + '''same := fmt.Sprint(back.EncodeOrdinary(prose)) == fmt.Sprint(tok.EncodeOrdinary(prose))
fmt.Println("saved", path, "- reads back identical:", same)'''),
]

notebooks["03_pretrain"] = [
    md("# Pretrain a GPT: live chart, interrupt, resume\n\n"
       "Token shards in llm.c's format, a small GPT-2, AdamW with warmup and cosine decay. The chart updates in place "
       "while it trains. Interrupt (■) stops it at a step boundary with the model in memory and a checkpoint on "
       "disk; `train.Resume` continues bit-identically — here the run is split in two on purpose, as if it had been "
       "interrupted."),
    params('outDir := "../out/pretrain" // everything this notebook writes\n'
           'steps := 200                   // steps of the first part\n'
           'moreSteps := 100               // steps of the resumed part\n'
           'vocabSize := 1024'),
    code(BOOKS),
    md("## Tokenizer and shards"),
    code('''
import (
	"github.com/golem-lm/golem/lmlib/gpt"
	"github.com/golem-lm/golem/lmlib/tokenizer"
	"github.com/golem-lm/golem/lmlib/train"
)

tok, err := tokenizer.Train(trainTexts, tokenizer.TrainOptions{VocabSize: vocabSize, SpecialTokens: []string{"<|endoftext|>"}})
''' + check() + '''os.RemoveAll(filepath.Join(outDir, "shards"))
sw, err := shard.NewWriter(filepath.Join(outDir, "shards"), tok, shard.WriterOptions{Prefix: "books", ValFraction: 0.1, Seed: 1})
''' + check() + '''for i, t := range append(append([]string{}, trainTexts...), valTexts...) {
	err = sw.Add(fmt.Sprint(i), t)
	if err != nil {
		panic(err)
	}
}
shards, err := sw.Close()
''' + check() + '''fmt.Printf("train: %d tokens; validation: %d tokens\\n", shards.TrainTokens, shards.ValTokens)'''),
    md("## Train\nThe cosine schedule is set to end at `steps + moreSteps` (`DecaySteps`), so the resumed run continues "
       "the same schedule."),
    code('''
cfg := gpt.Config{VocabSize: tok.VocabSize(), ContextLen: 128, Layers: 4, Heads: 4, Width: 128, Bias: true}
model, err := gpt.New(cfg, 1)
''' + check() + '''trainL, err := shard.NewLoader(shards.TrainShards, shard.LoaderOptions{B: 8, T: 128, Shuffle: true, Seed: 1, VocabSize: cfg.VocabSize})
''' + check() + '''valL, err := shard.NewLoader(shards.ValShards, shard.LoaderOptions{B: 8, T: 128, VocabSize: cfg.VocabSize})
''' + check() + '''runDir := filepath.Join(outDir, "run")
os.RemoveAll(runDir)
opts := train.Options{MaxSteps: steps, DecaySteps: steps + moreSteps, LR: 2e-3, EvalEvery: 50, EvalBatches: 10,
	CheckpointDir: runDir, CheckpointEvery: 50}
first, err := train.Train(model, trainL, valL, opts)
''' + check() + '''fmt.Printf("first loss %.4f, last loss %.4f\\n", first.History[0].Loss, first.Loss)
first'''),
    md("## Resume\nA fresh model and loaders, as after a restart: `train.Resume` restores the weights, the optimizer "
       "state, the loader position and the RNG from the newest checkpoint and continues to `steps + moreSteps`."),
    code('''
model2, err := gpt.New(cfg, 7)
''' + check() + '''trainL2, err := shard.NewLoader(shards.TrainShards, shard.LoaderOptions{B: 8, T: 128, Shuffle: true, Seed: 1, VocabSize: cfg.VocabSize})
''' + check() + '''valL2, err := shard.NewLoader(shards.ValShards, shard.LoaderOptions{B: 8, T: 128, VocabSize: cfg.VocabSize})
''' + check() + '''opts.MaxSteps = steps + moreSteps
resumed, err := train.Resume(model2, trainL2, valL2, runDir, opts)
''' + check() + '''fmt.Printf("resumed at step %d, now step %d: validation loss %.4f -> %.4f\\n", first.Steps, resumed.Steps, first.ValLoss, resumed.ValLoss)
resumed'''),
    md("The checkpoints on disk: safetensors weights with Hugging Face GPT-2 names, optimizer state, `state.json`."),
    code('''
cks, err := train.Checkpoints(runDir)
''' + check() + '''type Checkpoint struct {
	Dir   string
	Files int
}
var list []Checkpoint
for _, c := range cks {
	entries, _ := os.ReadDir(c)
	list = append(list, Checkpoint{filepath.Base(c), len(entries)})
}
list'''),
]

notebooks["04_evaluate"] = [
    md("# Evaluate a language model\n\n"
       "Held-out loss, perplexity and bits per byte (comparable across tokenizers), lm-evaluation-harness style "
       "tasks (a last-word cloze from held-out sentences and a multiple-choice task) with lm-eval's results table, "
       "and samples. With no `checkpoint` the notebook first pretrains a small model on the books (about a minute)."),
    params('outDir := "../out/evaluate" // everything this notebook writes\n'
           'checkpoint := ""              // a checkpoint directory with tokenizer.json; "" pretrains a small model here\n'
           'pretrainSteps := 300'),
    code(BOOKS),
    *load_or_pretrain("eval"),
    md("## Loss and bits per byte\nOn the held-out documents, every token predicted once (lm-eval's rolling windows)."),
    code('''
bpe := eval.BPE(tok)
heldOut, err := eval.DocLoss(model, bpe, eval.Texts(valTexts), 8)
''' + check() + '''fmt.Printf("validation loss %.4f, bits per byte %.4f\\n", heldOut.Loss, heldOut.BitsPerByte)
heldOut'''),
    md("## Tasks\nA LAMBADA-style last-word cloze built from held-out sentences, and a multiple-choice task written as "
       "JSONL: which continuation did the book write? Scored the way lm-evaluation-harness scores them."),
    code('''
import "encoding/json"

cloze := eval.BuildClozeTask("books_cloze", strings.Join(valTexts, "\\n\\n"), 200, 8, 1)
// multiple choice: the true next sentence against two from elsewhere in the held-out text
var sentences []string
for _, t := range valTexts {
	for _, s := range strings.Split(t, ". ") {
		if n := len(strings.Fields(s)); n >= 6 && n <= 25 {
			sentences = append(sentences, s+".")
		}
	}
}
f, err := os.Create(filepath.Join(outDir, "next_sentence.jsonl"))
''' + check() + '''enc := json.NewEncoder(f)
for i := 0; i+1 < len(sentences) && i < 300; i += 3 {
	choices := []string{" " + sentences[i+1], " " + sentences[(i+37)%len(sentences)], " " + sentences[(i+71)%len(sentences)]}
	enc.Encode(map[string]any{"context": sentences[i], "choices": choices, "gold": 0})
}
f.Close()
mc, err := eval.ReadTask(filepath.Join(outDir, "next_sentence.jsonl"))
''' + check() + '''results, err := eval.Evaluate(&eval.ModelLM{Model: eval.NewGPT(model), Tok: bpe}, []*eval.Task{cloze, mc}, eval.Options{Model: "books"})
''' + check() + '''err = results.Write(filepath.Join(outDir, "results.json"))
''' + check() + '''results'''),
    md("## Samples\nThe same prompt at three temperatures (top-k 40), through the KV cache."),
    code('''
type Sample struct {
	Temperature float64
	Text        string
}
var samples []Sample
for _, temp := range []float64{0, 0.7, 1.0} {
	g, err := eval.Generate(eval.NewGPT(model), bpe, "Light is", eval.GenerateOptions{MaxTokens: 40,
		Sampler: eval.Sampler{Temperature: temp, TopK: 40, Seed: 1}})
	if err != nil {
		panic(err)
	}
	samples = append(samples, Sample{temp, "Light is" + g.Text})
}
samples'''),
]

notebooks["05_finetune"] = [
    md("# Fine-tune: supervised pairs, completion-only loss\n\n"
       "A model pretrained on the books learns a small task from prompt/completion pairs: given a sentence, say its "
       "last word. The loss counts only the completion's tokens. With no `checkpoint` the notebook first pretrains "
       "a small model (about a minute)."),
    params('outDir := "../out/finetune" // everything this notebook writes\n'
           'checkpoint := ""              // a checkpoint directory with tokenizer.json; "" pretrains a small model here\n'
           'pretrainSteps := 300\n'
           'finetuneSteps := 150'),
    code(BOOKS),
    *load_or_pretrain("eval", "finetune"),
    md("## The task\nPairs from the books' sentences: the prompt is the sentence without its last word, framed as a "
       "question; the completion is the word. Held-out pairs come from the held-out documents."),
    code('''
// pairs makes last-word examples from texts.
func pairs(texts []string, n int) []finetune.Example {
	var out []finetune.Example
	for _, t := range texts {
		for _, s := range strings.Split(t, ". ") {
			w := strings.Fields(s)
			if len(w) < 6 || len(w) > 30 {
				continue
			}
			last := strings.Trim(w[len(w)-1], ",;:!?\\"'")
			if last == "" {
				continue
			}
			out = append(out, finetune.Example{Prompt: "Sentence: " + strings.Join(w[:len(w)-1], " ") + "\\nLast word:", Completion: " " + last})
			if len(out) == n {
				return out
			}
		}
	}
	return out
}
trainSet, heldOut := pairs(trainTexts, 2000), pairs(valTexts, 200)
fmt.Printf("%d training and %d held-out pairs\\n", len(trainSet), len(heldOut))
trainSet[:3]'''),
    code('''
bpe := eval.BPE(tok)
before, err := finetune.CompletionLoss(model, bpe, heldOut, 8)
''' + check() + '''res, err := finetune.FineTune(model, bpe, trainSet, heldOut, finetune.Options{Steps: finetuneSteps, BatchSize: 8, LR: 3e-4})
''' + check() + '''after, err := finetune.CompletionLoss(model, bpe, heldOut, 8)
''' + check() + '''type Loss struct {
	When           string
	CompletionLoss float32
}
[]Loss{{"before fine-tuning", before}, {"after fine-tuning", after}}'''),
    md("## Try it\nGreedy answers on held-out prompts, and the fine-tuned checkpoint saved with its parent recorded."),
    code('''
type Answer struct {
	Prompt, Want, Got string
}
var answers []Answer
for _, ex := range heldOut[:6] {
	g, err := eval.Generate(eval.NewGPT(model), bpe, ex.Prompt, eval.GenerateOptions{MaxTokens: 4, Stop: []string{"\\n"}})
	if err != nil {
		panic(err)
	}
	answers = append(answers, Answer{ex.Prompt[len("Sentence: "):], ex.Completion, g.Text})
}
answers'''),
    code('''
ftDir := filepath.Join(outDir, "finetuned")
os.RemoveAll(ftDir)
err = finetune.Save(model, ftDir, finetune.Info{Parent: checkpoint, Examples: len(trainSet), Result: res})
''' + check() + '''fmt.Println("saved", ftDir)'''),
]

notebooks["06_deploy"] = [
    md("# Deploy: the same Go as an HTTP function, sync calls and batch jobs\n\n"
       "`golem serve` turns Go functions into HTTP endpoints with durable batch jobs. This notebook reaches a host "
       "(`GOLEM_URL`, `GOLEM_API_KEY`) or starts one on a free loopback port, deploys a cleaning function written in "
       "a cell with `%%deploy` (the same cell also defines it here, to try it first), calls it, runs it as a batch "
       "job over many documents with progress, and calls a built-in."),
    params('url := ""                    // a running golem serve; "" starts one here\n'
           'apiKey := ""                 // its API key ("" with url: $GOLEM_API_KEY)\n'
           'outDir := "../out/deploy"    // the started host\'s data\n'
           'batchDocs := 200             // documents in the batch job'),
    code('''
import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"time"

	"github.com/golem-lm/golem/functions/api"
	"github.com/golem-lm/golem/functions/client"
)

os.Setenv("GOLEM_SERVE", "")
if url == "" {
	// the kernel is the golem binary: the next cell starts `golem serve` on a free port
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	addr := l.Addr().String()
	l.Close()
	exe, err := os.Executable()
	if err != nil {
		panic(err)
	}
	apiKey = fmt.Sprintf("notebook-%d", time.Now().UnixNano())
	os.RemoveAll(outDir)
	os.MkdirAll(outDir, 0o755)
	os.Setenv("GOLEM_SERVE", fmt.Sprintf("%s serve --addr %s --data %s --api-key %s --workers 2", exe, addr, filepath.Join(outDir, "data"), apiKey))
	os.Setenv("GOLEM_SERVE_DIR", outDir)
	url = "http://" + addr
} else if apiKey == "" {
	apiKey = os.Getenv("GOLEM_API_KEY")
}
os.Setenv("GOLEM_URL", url)
os.Setenv("GOLEM_API_KEY", apiKey)
url'''),
    code('''
!if [ -n "$GOLEM_SERVE" ]; then $GOLEM_SERVE > "$GOLEM_SERVE_DIR/serve.log" 2>&1 & echo $! > "$GOLEM_SERVE_DIR/serve.pid"; echo "started: golem serve, pid $(cat "$GOLEM_SERVE_DIR/serve.pid")"; fi
c := client.New(url, apiKey)
for start := time.Now(); ; time.Sleep(200 * time.Millisecond) {
	if ok, _ := c.Ready(); ok {
		break
	}
	if time.Since(start) > time.Minute {
		panic("golem serve at " + url + " is not ready (the log of one started here: " + filepath.Join(outDir, "serve.log") + ")")
	}
}
fmt.Println("golem serve is ready at", url)'''),
    md("## Deploy a function from a cell\nThe cell is an ordinary Go file without its package clause. `%%deploy` runs "
       "it here (so `Handle` can be tried in the next cell) and deploys the same source. The function keeps the "
       "documents that pass Gopher's quality filter and reports progress, so a long batch shows how far it got."),
    code('''
%%deploy keep-prose --timeout 60s --memory 512
import (
	"context"

	"github.com/golem-lm/golem/functions/fn"
	"github.com/golem-lm/golem/lmlib/clean"
)

type Doc struct {
	ID   string `json:"id"`
	Text string `json:"text"`
}

type Verdict struct {
	ID     string `json:"id"`
	Keep   bool   `json:"keep"`
	Reason string `json:"reason,omitempty"`
}

// Handle keeps the documents that pass Gopher's quality filter.
func Handle(ctx context.Context, docs []Doc) ([]Verdict, error) {
	filter := clean.NewGopherQualityFilter()
	out := make([]Verdict, len(docs))
	for i, d := range docs {
		reason := filter.Check(d.Text)
		out[i] = Verdict{ID: d.ID, Keep: reason == "", Reason: reason}
		if i%20 == 0 {
			fn.Progress(ctx, float64(i)/float64(len(docs)), fmt.Sprintf("document %d of %d", i, len(docs)))
		}
	}
	return out, nil
}'''),
    md("Tried here, in the notebook's interpreter:"),
    code('''
Handle(context.Background(), []Doc{{"a", "Buy now! Click here."},
	{"b", "My Design in this Book is not to explain the Properties of Light by Hypotheses, but to propose and prove them by Reason and Experiments: " +
		"In order to which I shall premise the following Definitions and Axioms. By the Rays of Light I understand its least Parts, and those as well " +
		"Successive in the same Lines, as Contemporary in several Lines. For it is manifest that Light consists of Parts, both Successive and Contemporary."}})'''),
    md("## Call it on the host\nA synchronous call: the body is the JSON of the input."),
    code('''
var verdicts []Verdict
err := c.Call("keep-prose", []Doc{{"a", "Buy now! Click here."}}, &verdicts)
''' + check() + '''verdicts'''),
    md("## A batch job over many documents\nSubmitted as a job (durable, on NATS JetStream): the host answers at once "
       "with an id, and the job's progress updates in place until it ends."),
    code('''
import "github.com/golem-lm/golem/lmlib/data"

opticks, err := data.Shipped("opticks")
''' + check() + '''r, err := data.Open(opticks, data.ReadOptions{TextSplit: data.SplitParagraph})
''' + check() + '''paras, err := data.ReadAll(r)
''' + check() + '''var batch []Doc
for _, p := range paras {
	if len(batch) == batchDocs {
		break
	}
	batch = append(batch, Doc{p.ID, p.Text})
}
id, err := c.Submit("keep-prose", batch, &client.SubmitOptions{IdempotencyKey: fmt.Sprintf("opticks-%d", len(batch))})
''' + check() + '''h := display.NewHandle()
job, err := c.WaitProgress(id, 5*time.Minute, func(j *api.Job) { h.Update(display.BundleOf(j)) })
''' + check() + '''h.Update(display.BundleOf(job))
var judged []Verdict
err = json.Unmarshal(job.Result, &judged)
''' + check() + '''kept := 0
for _, v := range judged {
	if v.Keep {
		kept++
	}
}
fmt.Printf("job %s %s: %d of %d paragraphs kept\\n", job.ID, job.Status, kept, len(judged))'''),
    md("## A built-in\nThe lmlib stages are built into the host: `tokenize` gives tiktoken's ids."),
    code('''
var toks struct {
	Encoding string `json:"encoding"`
	Tokens   []int  `json:"tokens"`
}
err = c.Call("tokenize", map[string]any{"encoding": "gpt2", "text": "Hello world"}, &toks)
''' + check() + '''toks'''),
    md("Stop the host this notebook started (if it did)."),
    code('''
!if [ -n "$GOLEM_SERVE" ]; then kill $(cat "$GOLEM_SERVE_DIR/serve.pid") && echo "golem serve stopped"; fi'''),
]

for name, cells in notebooks.items():
    write(name, cells)
