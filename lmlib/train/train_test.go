package train

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/golem-lm/golem/internal/assets"
	"github.com/golem-lm/golem/lmlib/gpt"
	"github.com/golem-lm/golem/lmlib/shard"
)

var (
	opticksOnce sync.Once
	opticksToks []int32
	opticksVoc  *shard.CharVocab
	opticksErr  error
)

// opticks returns Newton's Opticks as char-level tokens and its vocabulary.
func opticks(t testing.TB) ([]int32, *shard.CharVocab) {
	opticksOnce.Do(func() {
		p, err := assets.Opticks()
		if err != nil {
			opticksErr = err
			return
		}
		b, err := os.ReadFile(p)
		if err != nil {
			opticksErr = err
			return
		}
		opticksVoc = shard.NewCharVocab(string(b))
		opticksToks, opticksErr = opticksVoc.EncodeStrict(string(b))
	})
	if opticksErr != nil {
		t.Fatal(opticksErr)
	}
	return opticksToks, opticksVoc
}

// small returns a tiny model and Opticks loaders for the behaviour tests.
func small(t testing.TB, dropout float32, B, T int) (*gpt.Model, *shard.Loader, *shard.Loader) {
	return smallModel(t, false, dropout, B, T)
}

// smallModel is small, with every switch of the modern recipe on when modern.
func smallModel(t testing.TB, modern bool, dropout float32, B, T int) (*gpt.Model, *shard.Loader, *shard.Loader) {
	toks, voc := opticks(t)
	n := len(toks) * 9 / 10
	tl, err := shard.NewSliceLoader(toks[:n], shard.LoaderOptions{B: B, T: T, Shuffle: true, Seed: 11})
	if err != nil {
		t.Fatal(err)
	}
	vl, err := shard.NewSliceLoader(toks[n:], shard.LoaderOptions{B: B, T: T})
	if err != nil {
		t.Fatal(err)
	}
	cfg := gpt.Config{VocabSize: voc.VocabSize(), ContextLen: 32, Layers: 2, Heads: 2, Width: 32, Dropout: dropout, Bias: true}
	if modern {
		cfg = gpt.Preset(2)
		cfg.VocabSize, cfg.ContextLen, cfg.Width, cfg.Dropout = voc.VocabSize(), 32, 32, dropout
	}
	m, err := gpt.New(cfg, 5)
	if err != nil {
		t.Fatal(err)
	}
	return m, tl, vl
}

func paramBytes(m *gpt.Model) []byte {
	b := make([]byte, 4*len(m.Params))
	for i, v := range m.Params {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(v))
	}
	return b
}

func TestLRSchedule(t *testing.T) {
	o := Options{LR: 1e-3, MinLR: 1e-4, WarmupSteps: 9, DecaySteps: 109, MaxSteps: 200}
	tests := []struct {
		step int
		want float64
	}{
		{1, 1e-4},  // (0+1)/(9+1) of LR
		{5, 5e-4},  // warming up
		{10, 1e-3}, // it = 9 = warmup: cosine starts at LR
		{60, 1e-4 + 0.5*(1+math.Cos(math.Pi*0.5))*9e-4},
		{110, 1e-4}, // it = decay: MinLR
		{200, 1e-4}, // after: MinLR
	}
	for _, tc := range tests {
		if got := o.LRAt(tc.step); math.Abs(float64(got)-tc.want) > 1e-9 {
			t.Errorf("LRAt(%d) = %v, want %v", tc.step, got, tc.want)
		}
	}
}

func TestLRScheduleTrapezoid(t *testing.T) {
	o := Options{LR: 1e-3, MinLR: 1e-4, WarmupSteps: 9, DecaySteps: 109, WarmdownSteps: 40, MaxSteps: 200, Schedule: ScheduleTrapezoid,
		Optimizer: OptimizerMuon, MuonMomentumWarmup: 10}
	tests := []struct {
		step int
		want float64
	}{
		{1, 1e-4},  // warmup as with cosine
		{10, 1e-3}, // it = 9: constant LR
		{70, 1e-3}, // it = 69 = 109 − 40: warmdown starts
		{90, 1e-4 + 0.5*9e-4},
		{110, 1e-4}, // it = decay: MinLR
		{200, 1e-4},
	}
	for _, tc := range tests {
		if got := o.LRAt(tc.step); math.Abs(float64(got)-tc.want) > 1e-9 {
			t.Errorf("LRAt(%d) = %v, want %v", tc.step, got, tc.want)
		}
	}
	o, _ = o.withDefaults()
	if o.WarmdownSteps != 40 || o.MuonLR != 0.02 || o.MuonMomentum != 0.95 {
		t.Errorf("defaults: %+v", o)
	}
	for step, want := range map[int]float32{1: 0.85, 6: 0.9, 11: 0.95, 500: 0.95} {
		if got := o.muonMomentumAt(step); math.Abs(float64(got-want)) > 1e-6 {
			t.Errorf("Muon momentum at step %d: %v, want %v", step, got, want)
		}
	}
	if w, _ := (Options{Schedule: ScheduleTrapezoid, MaxSteps: 50}).withDefaults(); w.WarmdownSteps != 20 {
		t.Errorf("default warmdown of 50 steps: %d, want 20", w.WarmdownSteps)
	}
}

func TestOptionsErrors(t *testing.T) {
	m, tl, vl := small(t, 0, 2, 16)
	for _, tc := range []struct {
		o    Options
		want string
	}{
		{Options{LR: -1}, "LR -1"},
		{Options{Beta2: 1}, "Beta2 1"},
		{Options{MinLR: 1, LR: 0.1}, "MinLR 1"},
		{Options{GradAccum: -2}, "GradAccum -2"},
		{Options{Optimizer: "sgd"}, `Optimizer "sgd"`},
		{Options{Schedule: "linear"}, `Schedule "linear"`},
		{Options{Schedule: ScheduleTrapezoid, WarmdownSteps: 5000}, "WarmdownSteps 5000"},
		{Options{Optimizer: OptimizerMuon, MuonMomentum: 1.5}, "MuonMomentum 1.5"},
		{Options{Optimizer: OptimizerMuon, MuonLR: -1}, "MuonLR -1"},
		{Options{EmbedLR: -1}, "EmbedLR -1"},
	} {
		if _, err := Train(m, tl, vl, tc.o); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: error %v, want %q", tc.o, err, tc.want)
		}
	}
}

func TestBadInputs(t *testing.T) {
	m, _, _ := small(t, 0, 2, 16)
	long, _ := shard.NewSliceLoader(make([]int32, 1000), shard.LoaderOptions{B: 2, T: 64})
	if _, err := Train(m, long, nil, Options{Quiet: true}); err == nil || !strings.Contains(err.Error(), "T=64 is longer than the model's context length 32") {
		t.Errorf("context: %v", err)
	}
	toks := make([]int32, 1000)
	toks[500] = 200
	big, _ := shard.NewSliceLoader(toks, shard.LoaderOptions{B: 2, T: 16})
	if _, err := Train(m, big, nil, Options{Quiet: true, MaxSteps: 100}); err == nil || !strings.Contains(err.Error(), "token id 200") || !strings.Contains(err.Error(), "vocabulary size") {
		t.Errorf("token id ≥ vocab: %v", err)
	}
}

func TestLossFallsAndIsReproducible(t *testing.T) {
	var runs [][]byte
	for i := 0; i < 2; i++ {
		m, tl, vl := small(t, 0.1, 8, 32)
		res, err := Train(m, tl, vl, Options{MaxSteps: 60, EvalEvery: 20, EvalBatches: 4, LR: 3e-3, Quiet: true})
		if err != nil {
			t.Fatal(err)
		}
		if res.Steps != 60 || len(res.History) != 60 || len(res.Evals) != 3 || res.Tokens != 60*8*32 {
			t.Fatalf("result %+v", res)
		}
		t.Logf("run %d: %v (first loss %.3f)", i, res, res.History[0].Loss)
		if first, last := res.History[0].Loss, res.Loss; !(last < first-1) {
			t.Errorf("loss did not fall: %v → %v", first, last)
		}
		if !(res.ValLoss < res.Evals[0].ValLoss+0.5) || math.IsNaN(float64(res.ValLoss)) {
			t.Errorf("val loss %v", res.Evals)
		}
		runs = append(runs, paramBytes(m))
	}
	if !bytes.Equal(runs[0], runs[1]) {
		t.Error("two runs with the same seeds differ")
	}
}

// Gradient accumulation over 2 micro-batches of 4 rows matches one batch of 8:
// the loader hands out the same windows in both cases.
func TestGradAccumulation(t *testing.T) {
	var params [][]float32
	for _, c := range []struct{ B, accum int }{{8, 1}, {4, 2}} {
		m, tl, _ := small(t, 0, c.B, 32)
		if _, err := Train(m, tl, nil, Options{MaxSteps: 5, GradAccum: c.accum, Quiet: true}); err != nil {
			t.Fatal(err)
		}
		params = append(params, m.Params)
	}
	var maxDiff float64
	for i := range params[0] {
		maxDiff = math.Max(maxDiff, math.Abs(float64(params[0][i]-params[1][i])))
	}
	t.Logf("largest parameter difference %.2g", maxDiff)
	if maxDiff > 1e-4 {
		t.Errorf("accumulated and single-batch runs differ by %g", maxDiff)
	}
}

func TestEarlyStop(t *testing.T) {
	m, tl, _ := small(t, 0, 8, 32)
	// Validation on uniform random tokens: the better the model fits Opticks, the
	// worse it does there, so patience runs out.
	r := make([]int32, 8*33*4)
	x := uint64(1)
	for i := range r {
		x = x*6364136223846793005 + 1442695040888963407
		r[i] = int32((x >> 33) % uint64(m.Config.VocabSize))
	}
	vl, _ := shard.NewSliceLoader(r, shard.LoaderOptions{B: 8, T: 32})
	res, err := Train(m, tl, vl, Options{MaxSteps: 300, EvalEvery: 5, EvalBatches: 2, Patience: 2, LR: 3e-3, Quiet: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%v; evaluations %v", res, res.Evals)
	if !res.EarlyStopped || res.Steps >= 300 || !strings.Contains(res.StopReason, "early stop") {
		t.Errorf("not early stopped: %v", res)
	}
}

func TestInterrupt(t *testing.T) {
	m, tl, vl := small(t, 0, 4, 32)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	res, err := Train(m, tl, vl, Options{Context: ctx, Quiet: true})
	if err != nil || !res.Interrupted || res.Steps != 0 {
		t.Fatalf("pre-cancelled: %v %v", res, err)
	}
	// Cancel mid-run, when the step-5 checkpoint appears.
	dir := t.TempDir()
	ctx, cancel = context.WithCancel(context.Background())
	go func() {
		for {
			if _, err := os.Stat(filepath.Join(dir, "step_00000005")); err == nil {
				cancel()
				return
			}
			time.Sleep(time.Millisecond)
		}
	}()
	res, err = Train(m, tl, vl, Options{Context: ctx, MaxSteps: 100000, CheckpointDir: dir, CheckpointEvery: 5, EvalEvery: 1000, Quiet: true})
	if err != nil || !res.Interrupted || res.Steps < 5 || res.Steps >= 100000 {
		t.Fatalf("interrupted: %v %v", res, err)
	}
	if res.Checkpoint != checkpointPath(dir, res.Steps) {
		t.Errorf("interrupted run saved %q, want a checkpoint at step %d", res.Checkpoint, res.Steps)
	}
}

func TestNaNStopsKeepingCheckpoint(t *testing.T) {
	m, tl, vl := small(t, 0, 4, 32)
	dir := t.TempDir()
	res, err := Train(m, tl, vl, Options{LR: 1e30, MinLR: 1e30, GradClip: -1, WeightDecay: -1, MaxSteps: 50, CheckpointDir: dir, CheckpointEvery: 1, Quiet: true})
	if err == nil || !strings.Contains(err.Error(), "training loss is") || !strings.Contains(err.Error(), "step ") {
		t.Fatalf("NaN run: %v", err)
	}
	if res == nil || res.Steps == 0 {
		t.Fatalf("result %v", res)
	}
	if !strings.Contains(err.Error(), res.Checkpoint) {
		t.Errorf("error %q does not name the last good checkpoint %s", err, res.Checkpoint)
	}
	cks, _ := Checkpoints(dir)
	if len(cks) == 0 || cks[len(cks)-1] != checkpointPath(dir, res.Steps) {
		t.Fatalf("checkpoints %v after %d good steps", cks, res.Steps)
	}
	// The kept checkpoint holds finite weights.
	m2, err := LoadModel(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := m2.CheckFinite(); err != nil {
		t.Errorf("last good checkpoint: %v", err)
	}
}

func TestResumeMismatch(t *testing.T) {
	m, tl, vl := small(t, 0, 4, 32)
	dir := t.TempDir()
	if _, err := Train(m, tl, vl, Options{MaxSteps: 3, CheckpointDir: dir, Quiet: true}); err != nil {
		t.Fatal(err)
	}
	cfg := m.Config
	cfg.Layers = 3
	m3, _ := gpt.New(cfg, 1)
	if _, err := Resume(m3, tl, vl, dir, Options{MaxSteps: 6, Quiet: true}); err == nil || !strings.Contains(err.Error(), "config Layers is 2 in the checkpoint, 3 in the model") {
		t.Errorf("config mismatch: %v", err)
	}
	m2, tl2, vl2 := small(t, 0, 4, 32)
	if _, err := Resume(m2, tl2, vl2, dir, Options{MaxSteps: 6, LR: 5e-3, Quiet: true}); err == nil || !strings.Contains(err.Error(), "LR=0.001") {
		t.Errorf("options mismatch: %v", err)
	}
	// more steps: the schedule moved with MaxSteps; the error says to keep DecaySteps
	if _, err := Resume(m2, tl2, vl2, dir, Options{MaxSteps: 6, Quiet: true}); err == nil ||
		!strings.Contains(err.Error(), "DecaySteps=3, options say 6") || !strings.Contains(err.Error(), "golem train --resume --decay 3") {
		t.Errorf("more steps without DecaySteps: %v", err)
	}
	_, tl8, _ := small(t, 0, 8, 32)
	if _, err := Resume(m2, tl2, vl2, dir, Options{MaxSteps: 6, DecaySteps: 3, Optimizer: OptimizerMuon, Quiet: true}); err == nil || !strings.Contains(err.Error(), "Optimizer=adamw, options say muon") {
		t.Errorf("optimizer mismatch: %v", err)
	}
	if _, err := Resume(m2, tl8, vl2, dir, Options{MaxSteps: 6, DecaySteps: 3, Quiet: true}); err == nil || !strings.Contains(err.Error(), "B=4") {
		t.Errorf("loader mismatch: %v", err)
	}
	if _, err := Resume(m2, tl2, vl2, t.TempDir(), Options{Quiet: true}); err == nil || !strings.Contains(err.Error(), "no checkpoint") {
		t.Errorf("empty dir: %v", err)
	}
	// A corrupt weights file is named.
	ck, _ := Checkpoints(dir)
	os.WriteFile(filepath.Join(ck[len(ck)-1], "model.safetensors"), []byte("garbage!!"), 0o644)
	before := paramBytes(m2)
	if _, err := Resume(m2, tl2, vl2, dir, Options{MaxSteps: 6, DecaySteps: 3, Quiet: true}); err == nil || !strings.Contains(err.Error(), "model.safetensors") {
		t.Errorf("corrupt weights: %v", err)
	}
	if !bytes.Equal(before, paramBytes(m2)) {
		t.Error("a failed Resume changed the model")
	}
}

// killOpts are the options of the kill -9 test; DecaySteps is fixed so the child
// can run "forever" (MaxSteps huge) on the same schedule as the straight run. The
// modern run adds Muon (momentum warmup and weight decay), its own learning rates
// for the embeddings and the head, and the trapezoidal schedule.
func killOpts(dir string, maxSteps int, modern bool) Options {
	o := Options{MaxSteps: maxSteps, WarmupSteps: 5, DecaySteps: 40, GradAccum: 2, EvalEvery: 7, EvalBatches: 2,
		CheckpointDir: dir, CheckpointEvery: 10, KeepCheckpoints: 1000, Seed: 99, LR: 3e-3, Quiet: true}
	if modern {
		o.Optimizer, o.MuonMomentumWarmup, o.MuonWeightDecay = OptimizerMuon, 20, 0.1
		o.EmbedLR, o.HeadLR, o.Schedule, o.WarmdownSteps = 0.03, 2e-3, ScheduleTrapezoid, 15
	}
	return o
}

// TestResumeAfterKill: N steps straight == k steps, kill -9, Resume, N-k steps,
// to the bit, with dropout on (so the RNG state must be restored too) and
// gradient accumulation; for GPT-2 with AdamW and for the modern recipe with Muon
// (whose momentum buffers must be restored).
func TestResumeAfterKill(t *testing.T) {
	if v := os.Getenv("GOLEM_TRAIN_KILL_VARIANT"); v != "" {
		resumeAfterKill(t, v == "modern")
		return
	}
	for _, v := range []string{"gpt2", "modern"} {
		t.Run(v, func(t *testing.T) { resumeAfterKill(t, v == "modern") })
	}
}

func resumeAfterKill(t *testing.T, modern bool) {
	const N, k = 40, 10
	if dir := os.Getenv("GOLEM_TRAIN_KILL_CHILD"); dir != "" {
		m, tl, vl := smallModel(t, modern, 0.1, 4, 32)
		_, err := Train(m, tl, vl, killOpts(dir, 1<<30, modern))
		t.Fatalf("child run ended: %v", err) // it is meant to be killed first
	}
	m, tl, vl := smallModel(t, modern, 0.1, 4, 32)
	if _, err := Train(m, tl, vl, killOpts("", N, modern)); err != nil {
		t.Fatal(err)
	}
	straight := paramBytes(m)

	dir := t.TempDir()
	variant := "gpt2"
	if modern {
		variant = "modern"
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestResumeAfterKill$")
	cmd.Env = append(os.Environ(), "GOLEM_TRAIN_KILL_CHILD="+dir, "GOLEM_TRAIN_KILL_VARIANT="+variant)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	ck := checkpointPath(dir, k)
	deadline := time.Now().Add(2 * time.Minute)
	for {
		if _, err := os.Stat(filepath.Join(ck, "state.json")); err == nil {
			break
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatalf("no checkpoint %s from the child:\n%s", ck, out.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	err := cmd.Wait()
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("child was not killed by SIGKILL: %v\n%s", err, out.String())
	}

	m2, tl2, vl2 := smallModel(t, modern, 0.1, 4, 32) // fresh weights, loaders at the start
	res, err := Resume(m2, tl2, vl2, ck, killOpts(dir, N, modern))
	if err != nil {
		t.Fatal(err)
	}
	if res.Steps != N || len(res.History) != N {
		t.Fatalf("resumed run: %v (%d history points)", res, len(res.History))
	}
	if !bytes.Equal(paramBytes(m2), straight) {
		t.Fatal("weights after kill -9 and resume differ from the straight run")
	}
	// The final checkpoint of the resumed run holds those weights too.
	m3, err := LoadModel(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(paramBytes(m3), straight) {
		t.Error("final checkpoint weights differ")
	}
}

// TestShardsAcrossWorkers: a fixed Options.Shards gives the same bits on one
// worker as on two, and a checkpoint records the automatic count, so a run saved
// on two cores and resumed on one continues bit-identically.
func TestShardsAcrossWorkers(t *testing.T) {
	build := func(workers int) (*gpt.Model, *shard.Loader, *shard.Loader) {
		m0, tl, vl := small(t, 0.1, 4, 32)
		m, err := gpt.NewWithBackend(m0.Config, 5, gpt.NewCPU(workers))
		if err != nil {
			t.Fatal(err)
		}
		return m, tl, vl
	}
	opts := func(dir string, shards int) Options {
		return Options{MaxSteps: 12, EvalEvery: 6, EvalBatches: 2, CheckpointDir: dir, CheckpointEvery: 6,
			Seed: 3, Shards: shards, Quiet: true}
	}
	m, tl, vl := build(2)
	dir := t.TempDir()
	if _, err := Train(m, tl, vl, opts(dir, 0)); err != nil {
		t.Fatal(err)
	}
	straight := paramBytes(m)
	st, _, err := ReadState(checkpointPath(dir, 6))
	if err != nil {
		t.Fatal(err)
	}
	if st.Shards != 2 || m.Shards() != 2 {
		t.Fatalf("two workers, automatic count: checkpoint says %d shards, the model ran %d; want 2", st.Shards, m.Shards())
	}

	m1, tl1, vl1 := build(1)
	if _, err := Train(m1, tl1, vl1, opts("", 2)); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(paramBytes(m1), straight) {
		t.Error("Shards: 2 on one worker differs from two workers")
	}

	m2, tl2, vl2 := build(1) // its automatic count would be 1
	res, err := Resume(m2, tl2, vl2, checkpointPath(dir, 6), opts(t.TempDir(), 0))
	if err != nil {
		t.Fatal(err)
	}
	if res.Steps != 12 || m2.Shards() != 2 {
		t.Fatalf("resumed on one worker: %v, %d shards", res, m2.Shards())
	}
	if !bytes.Equal(paramBytes(m2), straight) {
		t.Error("resumed on one worker: weights differ from the straight run on two")
	}

	for _, n := range []int{-2, -7} {
		if _, err := Train(m, tl, vl, Options{Shards: n, Quiet: true}); err == nil || !strings.Contains(err.Error(), fmt.Sprintf("Shards %d", n)) {
			t.Errorf("Shards %d: %v", n, err)
		}
	}
}
