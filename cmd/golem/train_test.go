package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/golem-lm/golem/internal/assets"
	"github.com/golem-lm/golem/lmlib/shard"
	"github.com/golem-lm/golem/lmlib/train"
)

// golem shard, then golem train on the shards; golem train --text with
// checkpoints, extended by --resume; and the flag errors.
func TestShardAndTrainCommands(t *testing.T) {
	opticks, err := assets.Opticks()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	if err := runShard([]string{"--vocab", "gpt2", "--out", data, "--split", "paragraph", "--shard-tokens", "60000", opticks}); err != nil {
		t.Fatal(err)
	}
	trainShards, _ := shard.Glob(filepath.Join(data, "shard_train_*.bin"))
	valShards, _ := shard.Glob(filepath.Join(data, "shard_val_*.bin"))
	if len(trainShards) < 2 || len(valShards) != 1 {
		t.Fatalf("shards %v %v", trainShards, valShards)
	}
	small := []string{"--layers", "1", "--heads", "2", "--width", "16", "--context", "16", "--batch", "2", "--eval-every", "2", "--eval-batches", "1"}
	if err := runTrain(append([]string{"--train", filepath.Join(data, "shard_train_*.bin"), "--val", filepath.Join(data, "shard_val_*.bin"), "--steps", "2"}, small...)); err != nil {
		t.Fatal(err)
	}

	out := filepath.Join(dir, "run")
	args := append([]string{"--text", opticks, "--out", out, "--decay", "6", "--warmup", "1"}, small...)
	if err := runTrain(append(args, "--steps", "4", "--shards", "2")); err != nil {
		t.Fatal(err)
	}
	if err := runTrain(append(args, "--steps", "6", "--resume")); err != nil {
		t.Fatal(err)
	}
	st, _, err := train.ReadState(out)
	if err != nil || st.Step != 6 || len(st.History) != 6 || st.Shards != 2 { // --resume kept the saved --shards 2
		t.Fatalf("state after resume: %+v %v", st, err)
	}
	if b, err := os.ReadFile(filepath.Join(out, "charvocab.json")); err != nil || !strings.Contains(string(b), "runes") {
		t.Errorf("charvocab.json: %s %v", b, err)
	}
	// The depth dial: the modern recipe, Muon, its checkpoint resumed.
	deep := filepath.Join(dir, "deep")
	dargs := []string{"--text", opticks, "--out", deep, "--depth", "1", "--context", "16", "--batch", "2", "--eval-every", "2", "--eval-batches", "1", "--decay", "6"}
	if err := runTrain(append(dargs, "--steps", "3")); err != nil {
		t.Fatal(err)
	}
	if err := runTrain(append(dargs, "--steps", "5", "--resume")); err != nil {
		t.Fatal(err)
	}
	st, _, err = train.ReadState(deep)
	if err != nil || st.Step != 5 || !st.Config.Rotary || !st.Config.QKNorm || st.Config.Width != 32 || st.Options.Optimizer != "muon" || st.Options.Schedule != "trapezoid" {
		t.Fatalf("depth 1 run: %+v %v", st, err)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--steps", "1"}, "exactly one of --text or --train"},
		{append([]string{"--text", opticks, "--optimizer", "sgd", "--steps", "1"}, small...), `Optimizer "sgd"`},
		{[]string{"--text", opticks, "--resume"}, "--resume needs --out"},
		{append([]string{"--text", opticks, "--shards", "-2", "--steps", "1"}, small...), "Shards -2"},
		{[]string{"--train", filepath.Join(dir, "none_*.bin")}, "no files match"},
		{append([]string{"--text", opticks, "--out", out, "--resume", "--steps", "8", "--lr", "0.01"}, small...), "LR=0.001"},
	} {
		if err := runTrain(tc.args); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: %v, want %q", tc.args, err, tc.want)
		}
	}
	if err := runShard([]string{"--out", dir}); err == nil {
		t.Error("shard without inputs accepted")
	}
}
