"""Write notebooks/finetune_translation.ipynb: fine-tune a pretrained GPT for German→English
translation on FreeDict's example sentences and measure chrF before and after on held-out pairs.

pretrain (English books + monolingual German and English sentences) -> chrF of the pretrained model
-> golem's completion-only fine-tune on "German: …\\nEnglish: …" pairs -> chrF again.

Run: .venv/bin/python notebooks/make_finetune_translation.py
(tests/test_finetune_translation.py executes it with papermill and checks that chrF rises)
"""
from nbgen import check, code, md, write



cells = [
    md("# Fine-tune a foundation model for machine translation\n\n"
       "A small GPT is pretrained on English books and on German and English sentences (monolingual: it "
       "never sees a sentence next to its translation), then fine-tuned on German→English sentence pairs "
       "with the loss on the translation only. chrF (sacrebleu's definition, `eval.ChrF`) on pairs held "
       "out of both steps says what the fine-tune taught. The pairs are the example sentences of "
       "FreeDict's German–English dictionary (Debian `dict-freedict-deu-eng`, from TU Chemnitz's Ding); "
       "nothing is downloaded."),
    code('pretrainSteps := 600   // pretraining steps of 8×128 tokens\n'
         'finetuneSteps := 400   // fine-tuning steps of 16 pairs\n'
         'heldOutPairs := 100    // pairs scored before and after (kept out of both steps)\n'
         'maxWords := 12         // sentence length, in words, at most\n'
         'outDir := "../out/finetune_translation"',
         metadata={"tags": ["parameters"]}),
    md("## 1. Sentence pairs\nEvery dictionary entry whose German headword is a sentence, with its English "
       "translations as references. A seeded hash of the German sentence sends a fixed share to the "
       "held-out set."),
    code('import (\n\t"fmt"\n\t"os"\n\t"path/filepath"\n\t"strings"\n\n'
         '\t"github.com/golem-lm/golem/lmlib/eval"\n\t"github.com/golem-lm/golem/lmlib/shard"\n)\n\n'
         'entries, err := eval.FreeDict("deu-eng")\n' + check() +
         'pairs := eval.DictSentences(entries, 4, maxWords)\n'
         'var heldOut, trainPairs []eval.TranslationPair\n'
         'for _, p := range pairs {\n'
         '\tif len(heldOut) < heldOutPairs && shard.IsValidation(p.Source, 7, 0.05) {\n'
         '\t\theldOut = append(heldOut, p)\n\t} else {\n\t\ttrainPairs = append(trainPairs, p)\n\t}\n}\n'
         'fmt.Printf("%d dictionary entries, %d sentence pairs: %d for training, %d held out\\n",\n'
         '\tlen(entries), len(pairs), len(trainPairs), len(heldOut))\n'
         'for _, p := range heldOut[:3] {\n\tfmt.Printf("  %s  →  %s\\n", p.Source, strings.Join(p.References, " | "))\n}'),
    md("## 2. Pretrain\nThe foundation model's corpus: Newton's *Opticks* and Twain's *Tom Sawyer* (shipped with "
       "Go and a Go module), plus the training pairs' German sentences and, separately, their English "
       "sentences, twenty to a document. A byte-level BPE vocabulary of 2048 tokens is learned from it."),
    code('import (\n\t"github.com/golem-lm/golem/lmlib/data"\n\t"github.com/golem-lm/golem/lmlib/gpt"\n'
         '\t"github.com/golem-lm/golem/lmlib/tokenizer"\n\t"github.com/golem-lm/golem/lmlib/train"\n)\n\n'
         'var texts []string\n'
         'for _, book := range []string{"opticks", "tom-sawyer"} {\n'
         '\tpath, err := data.Shipped(book)\n\tif err != nil {\n\t\tpanic(err)\n\t}\n'
         '\traw, err := os.ReadFile(path)\n\tif err != nil {\n\t\tpanic(err)\n\t}\n'
         '\tfor _, para := range strings.Split(string(raw), "\\n\\n") {\n'
         '\t\tif s := strings.Join(strings.Fields(para), " "); len(s) > 40 {\n\t\t\ttexts = append(texts, s)\n\t\t}\n\t}\n}\n'
         'for i := 0; i+20 <= len(trainPairs); i += 20 {\n'
         '\tvar de, en []string\n'
         '\tfor _, p := range trainPairs[i : i+20] {\n\t\tde = append(de, p.Source)\n\t\ten = append(en, p.References[0])\n\t}\n'
         '\ttexts = append(texts, strings.Join(de, " "), strings.Join(en, " "))\n}\n'
         'tok, err := tokenizer.Train(texts, tokenizer.TrainOptions{VocabSize: 2048, SpecialTokens: []string{"<|endoftext|>"}})\n'
         + check() +
         'os.RemoveAll(outDir)\n'
         'shards, err := shard.WriteTexts(filepath.Join(outDir, "shards"), tok, texts, shard.WriterOptions{ValFraction: 0.05, Seed: 1})\n'
         + check() +
         'cfg := gpt.Config{VocabSize: tok.VocabSize(), ContextLen: 128, Layers: 4, Heads: 4, Width: 128, Bias: true}\n'
         'model, err := gpt.New(cfg, 1)\n' + check() +
         'trainL, err := shard.NewLoader(shards.TrainShards, shard.LoaderOptions{B: 8, T: 128, Shuffle: true, Seed: 1, VocabSize: cfg.VocabSize})\n'
         + check() +
         'valL, err := shard.NewLoader(shards.ValShards, shard.LoaderOptions{B: 8, T: 128, VocabSize: cfg.VocabSize})\n'
         + check() +
         'runDir := filepath.Join(outDir, "pretrained")\n'
         'os.MkdirAll(runDir, 0o755)\n'
         'err = tok.SaveHF(filepath.Join(runDir, "tokenizer.json"))\n' + check() +
         'pre, err := train.Train(model, trainL, valL, train.Options{MaxSteps: pretrainSteps, LR: 2e-3,\n'
         '\tEvalEvery: 100, EvalBatches: 5, CheckpointDir: runDir})\n' + check() +
         'fmt.Printf("pretrained: %d parameters, validation loss %.3f\\n", model.NumParams(), pre.ValLoss)'),
    md("## 3. chrF of the pretrained model\nThe held-out pairs as a translation task (JSONL-compatible, the "
       "same kind `golem eval --tasks` reads): the prompt is `German: …\\nEnglish:`, generation is greedy and "
       "stops at a newline. The pretrained model has never seen that format."),
    code('task := eval.TranslationTask("freedict_deu_eng_heldout", "German", "English", heldOut)\n'
         'for i := range task.Examples {\n\ttask.Examples[i].MaxTokens = 40\n}\n'
         'bpe := eval.BPE(tok)\n'
         'lm := &eval.ModelLM{Model: eval.NewGPT(model), Tok: bpe}\n'
         'before, err := eval.Evaluate(lm, []*eval.Task{task}, eval.Options{Model: "pretrained"})\n' + check() +
         'chrfBefore := before.Results[task.Name]["chrf,none"].(float64)\n'
         'before'),
    md("## 4. Fine-tune\nThe training pairs as prompt/completion examples: the loss counts only the English "
       "translation (and the newline and end of text after it). A few held-out pairs report the "
       "completion loss as it falls."),
    code('import "github.com/golem-lm/golem/lmlib/finetune"\n\n'
         'var ftTrain, ftHeld []finetune.Example\n'
         'for _, p := range trainPairs {\n'
         '\tftTrain = append(ftTrain, finetune.Example{Prompt: eval.TranslationPrompt("German", "English", p.Source), Completion: " " + p.References[0] + "\\n"})\n}\n'
         'for _, p := range heldOut[:20] {\n'
         '\tftHeld = append(ftHeld, finetune.Example{Prompt: eval.TranslationPrompt("German", "English", p.Source), Completion: " " + p.References[0] + "\\n"})\n}\n'
         'ft, err := finetune.FineTune(model, bpe, ftTrain, ftHeld, finetune.Options{Steps: finetuneSteps, BatchSize: 16, LR: 1e-3, Seed: 1})\n'
         + check() +
         'ftDir := filepath.Join(outDir, "translation")\n'
         'err = finetune.Save(model, ftDir, finetune.Info{Parent: runDir, Examples: len(ftTrain), Result: ft})\n' + check() +
         'fmt.Printf("held-out completion loss %.3f → %.3f; checkpoint %s\\n", ft.HeldOutLoss[0], ft.HeldOutLoss[len(ft.HeldOutLoss)-1], ftDir)'),
    md("## 5. chrF after fine-tuning\nThe same held-out pairs, the same greedy decoding."),
    code('after, err := eval.Evaluate(lm, []*eval.Task{task}, eval.Options{Model: "fine-tuned"})\n' + check() +
         'chrfAfter := after.Results[task.Name]["chrf,none"].(float64)\n'
         'for _, p := range heldOut[:5] {\n'
         '\tg, err := eval.Generate(lm.Model, bpe, eval.TranslationPrompt("German", "English", p.Source), eval.GenerateOptions{MaxTokens: 40, Stop: []string{"\\n"}})\n'
         '\tif err != nil {\n\t\tpanic(err)\n\t}\n'
         '\tfmt.Printf("%s\\n  golem: %s\\n  ref:   %s\\n", p.Source, strings.TrimSpace(g.Text), p.References[0])\n}\n'
         'fmt.Printf("chrF on %d held-out pairs: before %.2f, after %.2f\\n", len(heldOut), chrfBefore, chrfAfter)\n'
         'after'),
    md("The same from the command line, with the task files `make tasks` writes (300 held-out pairs "
       "and the rest as fine-tuning data):\n\n"
       "```sh\n"
       "golem eval --checkpoint out/finetune_translation/pretrained --tasks build/tasks/freedict_deu_eng.jsonl\n"
       "golem finetune --checkpoint out/finetune_translation/pretrained --data build/finetune/freedict_deu_eng_train.jsonl \\\n"
       "    --steps 400 --batch 16 --lr 1e-3 --out out/finetune_translation/cli\n"
       "golem eval --checkpoint out/finetune_translation/cli --tasks build/tasks/freedict_deu_eng.jsonl\n"
       "```"),
]

write("finetune_translation", cells)
