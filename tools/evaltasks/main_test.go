package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/golem-lm/golem/lmlib/eval"
)

// `make tasks` end to end: every task file it writes reads back as its kind.
func TestWritesEveryTask(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "tasks")
	if err := run(out, 40); err != nil {
		t.Fatal(err)
	}
	kinds := map[string]string{
		"freedict_deu_eng": eval.KindTranslation, "quiz_qa": eval.KindAliasQA, "quiz_capitals_mc": eval.KindMultipleChoice,
		"quiz_capitals_schema": eval.KindSchema, "opticks_cloze": eval.KindCloze, "bbq_gender": eval.KindBBQ,
		"squad_bbq_gender": eval.KindSQuAD, "crows_sbic_gender": eval.KindCrowSPairs, "toxicity_sbic": eval.KindToxicity,
	}
	tasks, err := eval.ReadTasks(out)
	if err != nil {
		t.Fatal(err)
	}
	if len(tasks) != len(kinds) {
		t.Fatalf("%d task files, want %d", len(tasks), len(kinds))
	}
	for _, task := range tasks {
		if kinds[task.Name] != task.Kind || len(task.Examples) == 0 {
			t.Errorf("%s: kind %s with %d examples, want %s", task.Name, task.Kind, len(task.Examples), kinds[task.Name])
		}
	}
	if tr := tasks[0]; tr.Name == "bbq_gender" && len(tr.Examples) != 5672 {
		t.Errorf("bbq_gender has %d examples", len(tr.Examples))
	}
	if _, err := os.Stat(filepath.Join(dir, "finetune", "freedict_deu_eng_train.jsonl")); err != nil {
		t.Fatal(err)
	}
}
