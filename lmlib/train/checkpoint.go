package train

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/golem-lm/golem/display"
	"github.com/golem-lm/golem/lmlib/data"
	"github.com/golem-lm/golem/lmlib/gpt"
	"github.com/golem-lm/golem/lmlib/shard"
)

// A checkpoint is a directory CheckpointDir/step_NNNNNNNN holding
//
//	model.safetensors      the weights, one F32 tensor per gpt.Tensor name (the tied
//	                       embedding once, as "wte", as HF GPT-2 stores it)
//	optimizer.safetensors  AdamW moments "exp_avg.NAME" and "exp_avg_sq.NAME" of the
//	                       tensors AdamW updates, Muon's "momentum_buffer.NAME" of
//	                       the matrices Muon updates (Options.Optimizer "muon")
//	state.json             step, tokens, model config, options, dropout RNG state,
//	                       training loader position, early-stopping state, curves
//
// It is written into a temporary directory beside it, every file fsynced, then
// renamed into place, so a crash leaves either the old or the new checkpoint
// complete. Only the newest KeepCheckpoints complete checkpoints are kept.

// CheckpointFormat names the state.json layout.
const CheckpointFormat = "golem-train-checkpoint/1"

// State is the content of a checkpoint's state.json.
type State struct {
	Format      string            `json:"format"`
	Step        int               `json:"step"`
	Tokens      int64             `json:"tokens"`
	Config      gpt.Config        `json:"config"`
	Options     TrajectoryOptions `json:"options"`
	RNGState    uint64            `json:"rng_state"`
	TrainLoader shard.LoaderState `json:"train_loader"`
	BestVal     *float32          `json:"best_val_loss,omitempty"`
	BadEvals    int               `json:"bad_evals"`
	// Shards is the shard count the training steps ran as (gpt.Model.Shards;
	// gpt.NoShards when the batch ran whole); 0 in checkpoints from before it was saved.
	Shards  int         `json:"shards,omitempty"`
	History []Point     `json:"history"`
	Evals   []EvalPoint `json:"evals"`
	SavedAt time.Time   `json:"saved_at"`
}

// TrajectoryOptions are the resolved options that decide a run's trajectory, as
// saved in state.json; Resume requires them to match, except MaxSteps, MaxTokens
// and Patience, which may change.
type TrajectoryOptions struct {
	LR          float32 `json:"lr"`
	MinLR       float32 `json:"min_lr"`
	WarmupSteps int     `json:"warmup_steps"`
	DecaySteps  int     `json:"decay_steps"`
	Beta1       float32 `json:"beta1"`
	Beta2       float32 `json:"beta2"`
	Eps         float32 `json:"eps"`
	WeightDecay float32 `json:"weight_decay"`
	GradClip    float32 `json:"grad_clip"`
	GradAccum   int     `json:"grad_accum"`
	EvalEvery   int     `json:"eval_every"`
	EvalBatches int     `json:"eval_batches"`
	Seed        uint64  `json:"seed"`
	MaxSteps    int     `json:"max_steps"`
	MaxTokens   int64   `json:"max_tokens"`
	Patience    int     `json:"patience"`

	// Options of the modern recipe, empty at their GPT-2 defaults (AdamW with one
	// learning rate, cosine schedule), so older checkpoints read the same.
	Schedule           string  `json:"schedule,omitempty"`
	WarmdownSteps      int     `json:"warmdown_steps,omitempty"`
	Optimizer          string  `json:"optimizer,omitempty"`
	MuonLR             float32 `json:"muon_lr,omitempty"`
	MuonMomentum       float32 `json:"muon_momentum,omitempty"`
	MuonMomentumWarmup int     `json:"muon_momentum_warmup,omitempty"`
	MuonWeightDecay    float32 `json:"muon_weight_decay,omitempty"`
	EmbedLR            float32 `json:"embed_lr,omitempty"`
	HeadLR             float32 `json:"head_lr,omitempty"`
}

func saveOptions(o Options) TrajectoryOptions {
	t := TrajectoryOptions{LR: o.LR, MinLR: o.MinLR, WarmupSteps: o.WarmupSteps, DecaySteps: o.DecaySteps,
		Beta1: o.Beta1, Beta2: o.Beta2, Eps: o.Eps, WeightDecay: o.WeightDecay, GradClip: o.GradClip,
		GradAccum: o.GradAccum, EvalEvery: o.EvalEvery, EvalBatches: o.EvalBatches, Seed: o.Seed,
		MaxSteps: o.MaxSteps, MaxTokens: o.MaxTokens, Patience: o.Patience}
	if o.Schedule == ScheduleTrapezoid {
		t.Schedule, t.WarmdownSteps = o.Schedule, o.WarmdownSteps
	}
	if o.Optimizer == OptimizerMuon {
		t.Optimizer, t.MuonLR, t.MuonMomentum, t.MuonMomentumWarmup, t.MuonWeightDecay =
			o.Optimizer, o.MuonLR, o.MuonMomentum, o.MuonMomentumWarmup, o.MuonWeightDecay
	}
	if o.EmbedLR != o.LR {
		t.EmbedLR = o.EmbedLR
	}
	if o.HeadLR != o.LR {
		t.HeadLR = o.HeadLR
	}
	return t
}

// shownOption is a saved option's value for a message: the empty Optimizer and
// Schedule stand for their defaults.
func shownOption(name string, v any) any {
	if v == "" {
		switch name {
		case "Optimizer":
			return OptimizerAdamW
		case "Schedule":
			return ScheduleCosine
		}
	}
	return v
}

// optimizerState lists the optimizer's buffers as they are saved: for each group of
// tensors, a name prefix and the buffer that holds its values at the tensors'
// offsets (AdamW's two moments, Muon's momentum, which shares mState's storage).
func (r *run) optimizerState() []optGroup {
	all := r.m.Tensors()
	if r.o.Optimizer != OptimizerMuon {
		return []optGroup{{"exp_avg.", all, r.mState}, {"exp_avg_sq.", all, r.vSt}}
	}
	var adam []gpt.Tensor
	for _, t := range all {
		if t.Kind != gpt.KindMatrix {
			adam = append(adam, t)
		}
	}
	return []optGroup{{"exp_avg.", adam, r.mState}, {"exp_avg_sq.", adam, r.vSt},
		{"momentum_buffer.", r.m.MatrixTensors(), r.mState}}
}

type optGroup struct {
	prefix  string
	tensors []gpt.Tensor
	buf     []float32
}

func checkpointPath(dir string, step int) string {
	return filepath.Join(dir, fmt.Sprintf("step_%08d", step))
}

func (r *run) tensors(buf []float32, prefix string) []NamedTensor {
	return named(r.m.Tensors(), buf, prefix)
}

func named(ts []gpt.Tensor, buf []float32, prefix string) []NamedTensor {
	out := make([]NamedTensor, len(ts))
	for i, t := range ts {
		out[i] = NamedTensor{Name: prefix + t.Name, Shape: t.Shape, Data: buf[t.Offset : t.Offset+t.Size]}
	}
	return out
}

// save writes a checkpoint of the current step.
func (r *run) save() error {
	if !r.writesCheckpoints() {
		r.res.Checkpoint = checkpointPath(r.o.CheckpointDir, r.step) // rank 0's
		return nil
	}
	dir := r.o.CheckpointDir
	final := checkpointPath(dir, r.step)
	fail := func(err error) error { return fmt.Errorf("train: write checkpoint %s: %w", final, err) }
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fail(err)
	}
	tmp, err := os.MkdirTemp(dir, ".tmp-"+filepath.Base(final)+"-")
	if err != nil {
		return fail(err)
	}
	defer os.RemoveAll(tmp) // gone after the rename; cleans up after a failure
	meta := map[string]string{"format": "pt", "producer": "golem"}
	if err := WriteSafetensors(filepath.Join(tmp, "model.safetensors"), r.tensors(r.m.Params, ""), meta); err != nil {
		return fail(err)
	}
	var opt []NamedTensor
	for _, g := range r.optimizerState() {
		opt = append(opt, named(g.tensors, g.buf, g.prefix)...)
	}
	if err := WriteSafetensors(filepath.Join(tmp, "optimizer.safetensors"), opt, map[string]string{"step": strconv.Itoa(r.step)}); err != nil {
		return fail(err)
	}
	st := State{Format: CheckpointFormat, Step: r.step, Tokens: r.tokens, Config: r.cfg, Options: saveOptions(r.o),
		RNGState: r.rng.State(), TrainLoader: r.trainL.State(), BadEvals: r.badEvals, Shards: r.shards,
		History: r.res.History, Evals: r.res.Evals, SavedAt: time.Now().UTC()}
	if r.bestVal == r.bestVal { // not NaN
		b := r.bestVal
		st.BestVal = &b
	}
	js, err := json.MarshalIndent(st, "", " ")
	if err != nil {
		return fail(err)
	}
	if err := data.WriteFileAtomic(filepath.Join(tmp, "state.json"), js); err != nil {
		return fail(err)
	}
	data.SyncDir(tmp)
	if _, err := os.Stat(final); err == nil { // the same step saved again (e.g. resumed and stopped at once)
		old := final + ".old"
		os.RemoveAll(old)
		if err := os.Rename(final, old); err != nil {
			return fail(err)
		}
		defer os.RemoveAll(old)
	}
	if err := os.Rename(tmp, final); err != nil {
		return fail(err)
	}
	data.SyncDir(dir)
	r.res.Checkpoint = final
	return pruneCheckpoints(dir, r.o.KeepCheckpoints)
}

// Checkpoints lists the complete checkpoint directories under dir, oldest first.
func Checkpoints(dir string) ([]string, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("list checkpoints in %s: %w", dir, err)
	}
	type ck struct {
		step int
		path string
	}
	var cks []ck
	for _, e := range ents {
		name := e.Name()
		if !e.IsDir() || !strings.HasPrefix(name, "step_") {
			continue
		}
		n, err := strconv.Atoi(strings.TrimPrefix(name, "step_"))
		if err != nil {
			continue
		}
		p := filepath.Join(dir, name)
		if _, err := os.Stat(filepath.Join(p, "state.json")); err != nil {
			continue
		}
		cks = append(cks, ck{n, p})
	}
	sort.Slice(cks, func(i, j int) bool { return cks[i].step < cks[j].step })
	out := make([]string, len(cks))
	for i, c := range cks {
		out[i] = c.path
	}
	return out, nil
}

func pruneCheckpoints(dir string, keep int) error {
	cks, err := Checkpoints(dir)
	if err != nil {
		return err
	}
	for i := 0; i < len(cks)-keep; i++ {
		if err := os.RemoveAll(cks[i]); err != nil {
			return fmt.Errorf("train: remove old checkpoint %s: %w", cks[i], err)
		}
	}
	// Temporary directories left by a crash.
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), ".tmp-step_") {
			if info, err := e.Info(); err == nil && time.Since(info.ModTime()) > time.Minute {
				os.RemoveAll(filepath.Join(dir, e.Name()))
			}
		}
	}
	return nil
}

// findCheckpoint resolves dir to a checkpoint directory: dir itself when it holds
// a state.json, else its newest complete step_* directory.
func findCheckpoint(dir string) (string, error) {
	if _, err := os.Stat(filepath.Join(dir, "state.json")); err == nil {
		return dir, nil
	}
	cks, err := Checkpoints(dir)
	if err != nil {
		return "", err
	}
	if len(cks) == 0 {
		return "", fmt.Errorf("no checkpoint (step_* directory with state.json) in %s", dir)
	}
	return cks[len(cks)-1], nil
}

// ReadState reads the state.json of a checkpoint (dir or its newest step_* directory).
func ReadState(dir string) (*State, string, error) {
	ck, err := findCheckpoint(dir)
	if err != nil {
		return nil, "", err
	}
	path := filepath.Join(ck, "state.json")
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, "", fmt.Errorf("read checkpoint state %s: %w", path, err)
	}
	var st State
	if err := json.Unmarshal(b, &st); err != nil {
		return nil, "", fmt.Errorf("checkpoint state %s: %w", path, err)
	}
	if st.Format != CheckpointFormat {
		return nil, "", fmt.Errorf("checkpoint state %s: format %q, want %q", path, st.Format, CheckpointFormat)
	}
	return &st, ck, nil
}

// loadInto copies the tensors of a safetensors file into buf at m's offsets.
func loadInto(m *gpt.Model, path, prefix string, buf []float32) error {
	return loadTensors(m.Tensors(), path, prefix, buf)
}

// loadTensors copies tensors (prefixed names) of a safetensors file into buf at
// their offsets; a tensor with the prefix that is not among them is an error.
func loadTensors(ts []gpt.Tensor, path, prefix string, buf []float32) error {
	st, err := ReadSafetensors(path)
	if err != nil {
		return err
	}
	want := map[string]bool{}
	for _, t := range ts {
		name := prefix + t.Name
		want[name] = true
		nt, ok := st.Tensor(name)
		if !ok {
			return fmt.Errorf("checkpoint %s: tensor %s is missing", path, name)
		}
		if !reflect.DeepEqual(nt.Shape, t.Shape) {
			return fmt.Errorf("checkpoint %s: tensor %s has shape %v, the model's is %v", path, name, nt.Shape, t.Shape)
		}
		copy(buf[t.Offset:t.Offset+t.Size], nt.Data)
	}
	for _, n := range st.Names {
		if strings.HasPrefix(n, prefix) && !want[n] {
			return fmt.Errorf("checkpoint %s: tensor %s is not in the model", path, n)
		}
	}
	return nil
}

// checkConfig names the first field where the checkpoint's config differs from the model's.
func checkConfig(ck string, saved, model gpt.Config) error {
	sv, mv := reflect.ValueOf(saved), reflect.ValueOf(model)
	for i := 0; i < sv.NumField(); i++ {
		if a, b := sv.Field(i).Interface(), mv.Field(i).Interface(); a != b {
			return fmt.Errorf("checkpoint %s does not match the model: config %s is %v in the checkpoint, %v in the model",
				ck, sv.Type().Field(i).Name, a, b)
		}
	}
	return nil
}

// LoadWeights loads the weights of a checkpoint (dir or its newest step_*
// directory) into m, checking the config.
func LoadWeights(m *gpt.Model, dir string) error {
	st, ck, err := ReadState(dir)
	if err != nil {
		return err
	}
	if err := checkConfig(ck, st.Config, m.Config); err != nil {
		return err
	}
	return loadInto(m, filepath.Join(ck, "model.safetensors"), "", m.Params)
}

// LoadModel builds the model saved in a checkpoint and loads its weights.
func LoadModel(dir string) (*gpt.Model, error) {
	st, _, err := ReadState(dir)
	if err != nil {
		return nil, err
	}
	m, err := gpt.New(st.Config, 0)
	if err != nil {
		return nil, err
	}
	if err := LoadWeights(m, dir); err != nil {
		return nil, err
	}
	return m, nil
}

// Resume continues the run saved in a checkpoint: dir is a checkpoint directory
// or a CheckpointDir (its newest checkpoint is used). m must have the saved
// config; its weights, the AdamW moments, the dropout RNG, the training loader's
// position, the early-stopping state and (unless opts.Shards sets another) the
// shard count the steps ran as are restored, so the continued run is
// bit-identical to one that never stopped, on this machine or on one with another
// number of cores. opts must match the saved run in every option that shapes the
// trajectory (the error names the first that differs); MaxSteps, MaxTokens,
// Patience, Context, Quiet, Shards and checkpointing may change (another shard
// count continues the run with other rounding). An empty opts.CheckpointDir keeps
// writing checkpoints next to the one resumed.
func Resume(m *gpt.Model, trainLoader, valLoader *shard.Loader, dir string, opts Options) (*Result, error) {
	return resume(m, trainLoader, valLoader, dir, opts, nil)
}

func resume(m *gpt.Model, trainLoader, valLoader *shard.Loader, dir string, opts Options, par *Parallel) (*Result, error) {
	st, ck, err := ReadState(dir)
	if err != nil {
		return nil, fmt.Errorf("resume: %w", err)
	}
	if opts.CheckpointDir == "" {
		opts.CheckpointDir = filepath.Dir(ck)
	}
	var end func()
	opts.Context, end = display.Call(opts.Context)
	defer end()
	var r *run
	if par != nil {
		r, err = newParallelRun(m, trainLoader, valLoader, opts, *par)
	} else {
		r, err = newRun(m, trainLoader, valLoader, opts)
	}
	if err != nil {
		return nil, err
	}
	if err := checkConfig(ck, st.Config, m.Config); err != nil {
		return nil, fmt.Errorf("resume: %w", err)
	}
	now := saveOptions(r.o)
	sv, nv := reflect.ValueOf(st.Options), reflect.ValueOf(now)
	for i := 0; i < sv.NumField(); i++ {
		switch sv.Type().Field(i).Name {
		case "MaxSteps", "MaxTokens", "Patience":
			continue
		case "WarmupSteps", "DecaySteps":
			if st.Options.DecaySteps != now.DecaySteps {
				// A longer MaxSteps moves the default DecaySteps (and the warmup
				// derived from it): that is how a run is usually extended.
				return nil, fmt.Errorf("resume: checkpoint %s was trained with a cosine schedule ending at DecaySteps=%d, options say %d "+
					"(DecaySteps defaults to MaxSteps): to continue the same run for more steps keep DecaySteps=%d "+
					"(golem train --resume --decay %d)", ck, st.Options.DecaySteps, now.DecaySteps, st.Options.DecaySteps, st.Options.DecaySteps)
			}
		}
		if a, b := sv.Field(i).Interface(), nv.Field(i).Interface(); a != b {
			name := sv.Type().Field(i).Name
			return nil, fmt.Errorf("resume: checkpoint %s was trained with %s=%v, options say %v", ck, name, shownOption(name, a), shownOption(name, b))
		}
	}
	// Read and check everything before changing the model or the loader.
	params := make([]float32, len(m.Params))
	if err := loadInto(m, filepath.Join(ck, "model.safetensors"), "", params); err != nil {
		return nil, fmt.Errorf("resume: %w", err)
	}
	opt := filepath.Join(ck, "optimizer.safetensors")
	for _, g := range r.optimizerState() {
		if err := loadTensors(g.tensors, opt, g.prefix, g.buf); err != nil {
			return nil, fmt.Errorf("resume: %w", err)
		}
	}
	if err := trainLoader.Restore(st.TrainLoader); err != nil {
		return nil, fmt.Errorf("resume from %s: %w", ck, err)
	}
	if _, cpu := m.Backend().(*gpt.CPU); cpu && opts.Shards == 0 && st.Shards != 0 {
		// The saved run's shard count, whatever this machine's core count: the same bits.
		if err := m.SetShards(st.Shards); err != nil {
			return nil, fmt.Errorf("resume from %s: %w", ck, err)
		}
	}
	copy(m.Params, params)
	r.rng.SetState(st.RNGState)
	r.step, r.tokens, r.badEvals, r.shards = st.Step, st.Tokens, st.BadEvals, st.Shards
	if st.BestVal != nil {
		r.bestVal = *st.BestVal
		r.res.BestValLoss = *st.BestVal
	}
	r.res.History, r.res.Evals = st.History, st.Evals
	if n := len(st.History); n > 0 {
		r.res.Loss = st.History[n-1].Loss
	}
	if n := len(st.Evals); n > 0 {
		r.res.ValLoss = st.Evals[n-1].ValLoss
	}
	r.res.Checkpoint = ck
	return r.loop()
}
