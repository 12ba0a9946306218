"""Write notebooks/quickstart.ipynb: golem's main job, end to end on text that ships with the tools.

collect -> clean (FineWeb's filters) -> train a BPE tokenizer -> token shards -> pretrain a GPT
-> evaluate (validation loss, bits per byte, last-word cloze) -> generate -> checkpoint.

Run: .venv/bin/python notebooks/make_quickstart.py   (then `make demo` executes it with papermill)
"""
from nbgen import check, code, md, write



cells = [
    md("# golem quick start: a language model from raw text, cell by cell\n\n"
       "Every cell is Go, run by golem's kernel in one live interpreter: a value made in one cell (the "
       "cleaned corpus, the tokenizer, the model) is still in memory in the next. The heavy lifting is "
       "`lmlib`, compiled; only the glue here is interpreted. The text ships with the tools (Newton's "
       "*Opticks* with Go, Twain's *Tom Sawyer* in a Go module), so nothing is downloaded."),
    code('trainSteps := 1000             // pretraining steps of 8×128 tokens\n'
         'vocabSize := 2048              // BPE vocabulary learned from the cleaned books\n'
         'recipe := "gpt2"               // or "modern": RoPE, RMSNorm, QK-norm, ReLU², untied head, Muon\n'
         'outDir := "../out/quickstart" // everything this notebook writes',
         metadata={"tags": ["parameters"]}),
    md("## 1. Collect\nThe two books, unwrapped into paragraphs and cut into documents of about 300 words, "
       "written as JSONL in datatrove's layout (`id`, `text`, `metadata`)."),
    code('import (\n\t"encoding/json"\n\t"fmt"\n\t"os"\n\t"path/filepath"\n\t"strings"\n\n'
         '\t"github.com/golem-lm/golem/lmlib/data"\n)\n\n'
         '// bookDocs cuts a shipped book into documents of about 300 words.\n'
         'func bookDocs(name string) []data.Doc {\n'
         '\tpath, err := data.Shipped(name)\n\tif err != nil {\n\t\tpanic(err)\n\t}\n'
         '\tb, err := os.ReadFile(path)\n\tif err != nil {\n\t\tpanic(err)\n\t}\n'
         '\tvar docs []data.Doc\n\tvar chunk []string\n\twords := 0\n'
         '\tfor _, para := range strings.Split(strings.ReplaceAll(string(b), "\\r\\n", "\\n"), "\\n\\n") {\n'
         '\t\tchunk = append(chunk, strings.Join(strings.Fields(para), " "))\n'
         '\t\twords += len(strings.Fields(para))\n'
         '\t\tif words >= 300 {\n'
         '\t\t\tdocs = append(docs, data.Doc{ID: fmt.Sprintf("%s/%04d", name, len(docs)), Text: strings.Join(chunk, "\\n\\n")})\n'
         '\t\t\tchunk = nil\n\t\t\twords = 0\n\t\t}\n\t}\n\treturn docs\n}\n\n'
         'os.RemoveAll(outDir)\n'
         'os.MkdirAll(filepath.Join(outDir, "raw"), 0o755)\n'
         'raw, err := os.Create(filepath.Join(outDir, "raw", "books.jsonl"))\n' + check() +
         'enc := json.NewEncoder(raw)\n'
         'ndocs := 0\n'
         'for _, book := range []string{"opticks", "tom-sawyer"} {\n'
         '\tfor _, d := range bookDocs(book) {\n\t\tenc.Encode(d)\n\t\tndocs++\n\t}\n}\n'
         'raw.Close()\n'
         'fmt.Println(ndocs, "documents collected")'),
    md("## 2. Clean\nFineWeb's chain with datatrove's thresholds: language ID, Gopher repetition and quality, "
       "C4, FineWeb quality, MinHash near-dedup, PII. The table says what each stage kept and why it "
       "dropped the rest."),
    code('import (\n\t"context"\n\n\t"github.com/golem-lm/golem/lmlib/clean"\n)\n\n'
         'fineweb, err := clean.FineWebSteps(clean.FineWebOptions{Languages: []string{"en"}})\n' + check() +
         'pipe := &data.Pipeline{Inputs: []string{filepath.Join(outDir, "raw")}, Steps: fineweb,\n'
         '\tOutput: filepath.Join(outDir, "clean"), Format: data.OutJSONL, Quiet: true}\n'
         'cleanStats, err := pipe.Run(context.Background())\n' + check() +
         'cleanStats'),
    md("## 3. Tokenize\nA byte-level BPE vocabulary (GPT-2's pre-tokenizer) learned from the training documents "
       "only; a tenth of the documents, chosen by a seeded hash of their id, is held out for validation."),
    code('import (\n\t"github.com/golem-lm/golem/lmlib/shard"\n\t"github.com/golem-lm/golem/lmlib/tokenizer"\n)\n\n'
         'reader, err := data.Open(filepath.Join(outDir, "clean"), data.ReadOptions{})\n' + check() +
         'cleaned, err := data.ReadAll(reader)\n' + check() +
         'var trainTexts, valTexts []string\n'
         'for _, d := range cleaned {\n'
         '\tif shard.IsValidation(d.ID, 1, 0.1) {\n\t\tvalTexts = append(valTexts, d.Text)\n'
         '\t} else {\n\t\ttrainTexts = append(trainTexts, d.Text)\n\t}\n}\n'
         'tok, err := tokenizer.Train(trainTexts, tokenizer.TrainOptions{VocabSize: vocabSize, SpecialTokens: []string{"<|endoftext|>"}})\n'
         + check() +
         'fmt.Printf("%d training and %d validation documents; vocabulary of %d tokens\\n", len(trainTexts), len(valTexts), tok.VocabSize())\n'
         'tok.Visualize("Light is refracted by the Prism, said Tom.")'),
    md("Token shards in llm.c's format (EOT before every document), split train/validation by document."),
    code('sw, err := shard.NewWriter(filepath.Join(outDir, "shards"), tok, shard.WriterOptions{Prefix: "books", ValFraction: 0.1, Seed: 1})\n'
         + check() +
         'reader, err = data.Open(filepath.Join(outDir, "clean"), data.ReadOptions{})\n' + check() +
         'err = sw.AddReader(reader)\n' + check() +
         'shards, err := sw.Close()\n' + check() +
         'fmt.Printf("train: %d tokens in %d documents; validation: %d tokens in %d documents\\n",\n'
         '\tshards.TrainTokens, shards.TrainDocs, shards.ValTokens, shards.ValDocs)'),
    md("## 4. Pretrain\nA small GPT-2 (4 layers, 4 heads, width 128, context 128) learns to predict the next "
       "token. AdamW, warmup and cosine decay, gradient clipping; the chart updates in place, and an "
       "interrupt stops it cleanly at a step boundary with the model still in memory."),
    code('import (\n\t"github.com/golem-lm/golem/lmlib/gpt"\n\t"github.com/golem-lm/golem/lmlib/train"\n)\n\n'
         'cfg := gpt.Config{VocabSize: tok.VocabSize(), ContextLen: 128, Layers: 4, Heads: 4, Width: 128, Bias: true}\n'
         'if recipe == "modern" { // the same shape with the modern block (docs/gpt.md)\n'
         '\tcfg = gpt.Preset(4)\n\tcfg.VocabSize = tok.VocabSize()\n\tcfg.ContextLen = 128\n}\n'
         'model, err := gpt.New(cfg, 1)\n' + check() +
         'fmt.Printf("%d parameters, %.1f MFLOP per training token\\n", model.NumParams(), float64(model.FLOPsPerToken())/1e6)\n'
         'trainL, err := shard.NewLoader(shards.TrainShards, shard.LoaderOptions{B: 8, T: 128, Shuffle: true, Seed: 1, VocabSize: cfg.VocabSize})\n'
         + check() +
         'valL, err := shard.NewLoader(shards.ValShards, shard.LoaderOptions{B: 8, T: 128, VocabSize: cfg.VocabSize})\n'
         + check() +
         'runDir := filepath.Join(outDir, "run")\n'
         'os.MkdirAll(runDir, 0o755)\n'
         'err = tok.SaveHF(filepath.Join(runDir, "tokenizer.json"))\n' + check() +
         'opts := train.Options{MaxSteps: trainSteps, LR: 2e-3}\n'
         'if recipe == "modern" { // Muon + AdamW, trapezoidal schedule (docs/train.md)\n'
         '\topts = train.PresetOptions(cfg, 8*128)\n\topts.MaxSteps = trainSteps\n}\n'
         'opts.EvalEvery = 100\n'
         'opts.EvalBatches = 10\n'
         'opts.CheckpointDir = runDir\n'
         'result, err := train.Train(model, trainL, valL, opts)\n' + check() +
         'fmt.Printf("%s: validation loss %.3f, %.0f tokens/s\\n", result.StopReason, result.ValLoss, result.TokensPerSec)'),
    md("## 5. Evaluate\nOn the held-out documents: validation loss, perplexity and bits per byte (comparable "
       "across tokenizers); then a LAMBADA-style last-word cloze built from held-out sentences, scored the "
       "way lm-evaluation-harness scores it (results JSON in its layout)."),
    code('import "github.com/golem-lm/golem/lmlib/eval"\n\n'
         'bpe := eval.BPE(tok)\n'
         'heldOut, err := eval.DocLoss(model, bpe, eval.Texts(valTexts), 8)\n' + check() +
         'fmt.Printf("validation loss %.4f, bits per byte %.4f\\n", heldOut.Loss, heldOut.BitsPerByte)\n'
         'heldOut'),
    code('cloze := eval.BuildClozeTask("books_cloze", strings.Join(valTexts, "\\n\\n"), 200, 8, 1)\n'
         'results, err := eval.Evaluate(&eval.ModelLM{Model: eval.NewGPT(model), Tok: bpe}, []*eval.Task{cloze}, eval.Options{Model: "quickstart"})\n'
         + check() +
         'err = results.Write(filepath.Join(outDir, "results.json"))\n' + check() +
         'fmt.Printf("cloze accuracy %.3f on %d held-out sentences\\n", results.Results["books_cloze"]["acc,none"], len(cloze.Examples))\n'
         'results'),
    md("## 6. Generate\nSampled with temperature and top-k through the KV cache, streamed as it is produced."),
    code('fmt.Print("sample: Light is")\n'
         'sample, err := eval.Generate(eval.NewGPT(model), bpe, "Light is", eval.GenerateOptions{MaxTokens: 60,\n'
         '\tSampler: eval.Sampler{Temperature: 0.8, TopK: 40, Seed: 1}, OnText: func(s string) { fmt.Print(s) }})\n'
         'fmt.Println()\n' + check() +
         'fmt.Printf("(%d new tokens, stopped by %s)\\n", len(sample.Tokens), sample.StopReason)'),
    md("The checkpoint (safetensors weights, optimizer state, `state.json`) and its `tokenizer.json` are what "
       "`golem eval`, `golem generate`, `golem finetune`, `golem export hf` and `golem serve` read."),
    code('ckpt, err := filepath.Abs(result.Checkpoint)\n' + check() + 'fmt.Println("checkpoint:", ckpt)'),
]

write("quickstart", cells)
