"""Write notebooks/generate_widgets.ipynb: sample from a small GPT with widgets — sliders
for the temperature and top-k, a prompt field and a button; every change regenerates
the sample in an Output widget (Go callbacks in the golem kernel, display/widgets).

The notebook pretrains a small model on Newton's Opticks first (about half a minute on
2 cores), so it runs alone. Under papermill (tests/test_notebooks.py) the widgets
simply display (their text/plain form stays in the executed notebook) and the last
cells move the sliders from Go, which runs the same callbacks.

Run: .venv/bin/python notebooks/make_generate_widgets.py
"""
from nbgen import check, code, md, write



cells = [
    md("# Generate with widgets\n\n"
       "Sliders for the sampling temperature and top-k, a prompt and a button, from Go "
       "(`github.com/golem-lm/golem/display/widgets`, the ipywidgets protocol): moving a slider runs a Go "
       "callback in the kernel, which samples again from the model and shows the text in an Output widget. "
       "A small GPT is pretrained on Newton's *Opticks* first, so the notebook runs alone."),
    code('outDir := "../out/generate_widgets" // everything this notebook writes\n'
         'pretrainSteps := 150                // training steps of 8×64 tokens\n'
         'maxTokens := 40                     // tokens per sample',
         metadata={"tags": ["parameters"]}),
    md("## A small model\nA byte-level BPE of 512 tokens and a 2-layer GPT trained for `pretrainSteps` steps."),
    code('import (\n\t"fmt"\n\t"os"\n\t"path/filepath"\n\t"strings"\n\n'
         '\t"github.com/golem-lm/golem/lmlib/data"\n\t"github.com/golem-lm/golem/lmlib/eval"\n'
         '\t"github.com/golem-lm/golem/lmlib/gpt"\n\t"github.com/golem-lm/golem/lmlib/shard"\n'
         '\t"github.com/golem-lm/golem/lmlib/tokenizer"\n\t"github.com/golem-lm/golem/lmlib/train"\n)\n\n'
         'path, err := data.Shipped("opticks")\n' + check() +
         'raw, err := os.ReadFile(path)\n' + check() +
         'var texts []string\n'
         'for _, p := range strings.Split(strings.ReplaceAll(string(raw), "\\r\\n", "\\n"), "\\n\\n") {\n'
         '\tif p = strings.Join(strings.Fields(p), " "); len(p) > 40 {\n'
         '\t\ttexts = append(texts, p)\n'
         '\t}\n'
         '}\n'
         'os.MkdirAll(outDir, 0o755)\n'
         'tok, err := tokenizer.Train(texts, tokenizer.TrainOptions{VocabSize: 512, SpecialTokens: []string{"<|endoftext|>"}})\n' + check() +
         'sw, err := shard.NewWriter(filepath.Join(outDir, "shards"), tok, shard.WriterOptions{Prefix: "opticks", ValFraction: 0.1, Seed: 1})\n' + check() +
         'for i, t := range texts {\n'
         '\terr = sw.Add(fmt.Sprint(i), t)\n'
         '\tif err != nil {\n\t\tpanic(err)\n\t}\n'
         '}\n'
         'shards, err := sw.Close()\n' + check() +
         'cfg := gpt.Config{VocabSize: tok.VocabSize(), ContextLen: 64, Layers: 2, Heads: 2, Width: 64, Bias: true}\n'
         'model, err := gpt.New(cfg, 1)\n' + check() +
         'trainL, err := shard.NewLoader(shards.TrainShards, shard.LoaderOptions{B: 8, T: 64, Shuffle: true, Seed: 1, VocabSize: cfg.VocabSize})\n' + check() +
         'valL, err := shard.NewLoader(shards.ValShards, shard.LoaderOptions{B: 8, T: 64, VocabSize: cfg.VocabSize})\n' + check() +
         'pre, err := train.Train(model, trainL, valL, train.Options{MaxSteps: pretrainSteps, LR: 3e-3, EvalEvery: 1000, EvalBatches: 4})\n' + check() +
         'fmt.Println("pretrained:", pre)'),
    md("## The widgets\nEach control calls `regenerate` when it changes (`OnChange`, `OnClick`); `regenerate` "
       "samples with the controls' values and shows the text in the Output widget (`Capture`). The callbacks "
       "run in the kernel between cells, when the front end's message arrives. `ContinuousUpdate(false)`: a "
       "slider sends its value when it is let go, not at every pixel of a drag."),
    code('import "github.com/golem-lm/golem/display/widgets"\n\n'
         'bpe := eval.BPE(tok)\n'
         'temperature := widgets.NewFloatSlider("temperature", 0, 1.5, 0.8, widgets.Step(0.05), widgets.ContinuousUpdate(false))\n'
         'topK := widgets.NewIntSlider("top-k", 1, 100, 40, widgets.ContinuousUpdate(false))\n'
         'prompt := widgets.NewText("prompt", "Light is", widgets.ContinuousUpdate(false))\n'
         'again := widgets.NewButton("Sample again", widgets.ButtonStyle("primary"))\n'
         'sample := widgets.NewOutput(widgets.Width("700px"))\n'
         'seed := 1\n'
         'lastSample := ""'),
    code('// regenerate samples with the controls\' values into the Output widget.\n'
         'func regenerate() {\n'
         '\tsample.Capture(func() {\n'
         '\t\tdisplay.ClearOutput()\n'
         '\t\tg, err := eval.Generate(eval.NewGPT(model), bpe, prompt.Value(), eval.GenerateOptions{MaxTokens: maxTokens,\n'
         '\t\t\tSampler: eval.Sampler{Temperature: temperature.Value(), TopK: topK.Value(), Seed: uint64(seed)}})\n'
         '\t\tif err != nil {\n'
         '\t\t\tfmt.Println("generate:", err)\n'
         '\t\t\treturn\n'
         '\t\t}\n'
         '\t\tlastSample = fmt.Sprintf("temperature %.2f, top-k %d, seed %d: %s%s", temperature.Value(), topK.Value(), seed, prompt.Value(), g.Text)\n'
         '\t\tfmt.Println(lastSample)\n'
         '\t})\n'
         '}'),
    code('temperature.OnChange(func(float64) { regenerate() })\n'
         'topK.OnChange(func(int) { regenerate() })\n'
         'prompt.OnChange(func(string) { regenerate() })\n'
         'again.OnClick(func() {\n'
         '\tseed++\n'
         '\tregenerate()\n'
         '})\n'
         'regenerate()\n'
         'widgets.VBox(widgets.HBox(temperature, topK), widgets.HBox(prompt, again), sample)'),
    md("Moving the sliders from Go runs the same callbacks (this is what papermill sees: in JupyterLab, "
       "drag the sliders instead)."),
    code('temperature.Set(0.3)\n'
         'topK.Set(5)\n'
         'fmt.Println(lastSample)'),
]

write("generate_widgets", cells)
