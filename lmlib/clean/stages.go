package clean

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/golem-lm/golem/lmlib/data"
)

// The stages of a cleaning run split into tasks (StagedRun), in order. Without
// MinHash dedup in the steps there are only StageFilter and StageMerge.
const (
	// StageFilter runs the steps before MinHash on each input shard and computes
	// the kept documents' MinHash signatures (one task per shard at most).
	StageFilter = "filter"
	// StageBuckets finds the duplicate pairs of each LSH bucket across all shards
	// (one task per bucket at most).
	StageBuckets = "buckets"
	// StageClusters joins the pairs into clusters and lists, per shard, the
	// documents to remove (one task).
	StageClusters = "clusters"
	// StageDedup removes them from each shard and runs the steps after MinHash,
	// writing the final output (one task per shard at most).
	StageDedup = "dedup"
	// StageMerge checks that every shard is complete and writes Output/stats.json
	// (one task).
	StageMerge = "merge"
)

// StageDir is the hidden directory inside a StagedRun's Output that holds the
// stages' intermediate files (directory readers skip it).
const StageDir = ".golem-stages"

// StagedRun is a cleaning chain run as tasks on any number of machines sharing a
// file system — datatrove's executors and its four MinHash stages, on golem's
// files. Each stage runs as N tasks (data.Task: task i takes the shards, or
// buckets, i, i+N, …); a stage starts when the one before it is complete (Slurm
// job dependencies, one Kubernetes Job after another, or `golem clean --queue`).
//
// A *MinHashDeduper among Steps marks where near-duplicates are removed; it is
// replaced by the stages filter → buckets → clusters → dedup, which give
// MinHashIndex's (datatrove's) result over the whole input whatever the number of
// tasks: the documents are numbered by (input shard, position in the filter
// stage's output), each cluster keeps its lowest-numbered document. So N tasks
// drop exactly the documents one task drops and write byte-identical files.
//
// Every stage resumes: a shard or bucket whose output is complete and current is
// not done again, so a rerun of a task (or of the whole run) does only what is
// missing; each task also leaves a completion marker with its report in
// Output/.golem-stages/done/STAGE/. Changed inputs invalidate what depends on
// them, stage after stage.
type StagedRun struct {
	Inputs     []string         // files, directories or globs (see data.Open)
	Read       data.ReadOptions // reader options for the inputs
	Steps      []data.Step      // the chain, e.g. FineWebSteps
	Output     string           // output directory (required)
	Format     string           // output format (default data.OutJSONLZstd)
	Workers    int              // goroutines per task (default GOMAXPROCS)
	SkipErrors bool             // see data.Pipeline
	Quiet      bool             // no live progress display
	// Progress, when set, receives a line about the task's progress from time to
	// time and the fraction of its units (shards, buckets) done.
	Progress func(fraction float64, note string)
}

// TaskReport is what one task of one stage did; it is also the task's completion
// marker.
type TaskReport struct {
	Stage    string      `json:"stage"`
	Task     data.Task   `json:"task"`
	Units    int         `json:"units"`              // shards or buckets this task owns
	Done     int         `json:"done"`               // of them done by this run
	Resumed  int         `json:"resumed"`            // done by an earlier run
	Stats    *data.Stats `json:"stats,omitempty"`    // filter and dedup: this task's; merge: the whole run's
	Pairs    int64       `json:"pairs,omitempty"`    // buckets: duplicate pairs found
	Clusters int64       `json:"clusters,omitempty"` // clusters: clusters of two or more documents
	Removed  int64       `json:"removed,omitempty"`  // clusters: documents to remove
	Seconds  float64     `json:"seconds"`
}

// split finds the MinHash deduper among the steps.
func (r *StagedRun) split() (before, after []data.Step, cfg *MinHashConfig, err error) {
	at := -1
	for i, s := range r.Steps {
		if s == nil {
			return nil, nil, nil, fmt.Errorf("step %d is nil", i)
		}
		if m, ok := s.(*MinHashDeduper); ok {
			if at >= 0 {
				return nil, nil, nil, fmt.Errorf("steps %d and %d are both MinHash dedup; a staged run has at most one", at, i)
			}
			at = i
			c := m.h.cfg
			cfg = &c
		}
	}
	if at < 0 {
		return r.Steps, nil, nil, nil
	}
	return r.Steps[:at], r.Steps[at+1:], cfg, nil
}

// Stages returns the stages of this run, in order.
func (r *StagedRun) Stages() ([]string, error) {
	_, _, cfg, err := r.split()
	if err != nil {
		return nil, err
	}
	if cfg == nil {
		return []string{StageFilter, StageMerge}, nil
	}
	return []string{StageFilter, StageBuckets, StageClusters, StageDedup, StageMerge}, nil
}

// Units returns how many units of work a stage has: input shards for filter and
// dedup, buckets for buckets, 1 for clusters and merge. More tasks than units
// leave the extra tasks idle.
func (r *StagedRun) Units(stage string) (int, error) {
	_, _, cfg, err := r.split()
	if err != nil {
		return 0, err
	}
	switch stage {
	case StageFilter, StageDedup:
		sh, err := data.InputShards(r.Inputs)
		return len(sh), err
	case StageBuckets:
		if cfg != nil {
			return cfg.NumBuckets, nil
		}
	case StageClusters, StageMerge:
		return 1, nil
	}
	return 0, fmt.Errorf("unknown stage %q", stage)
}

func (r *StagedRun) dir(parts ...string) string {
	return filepath.Join(append([]string{r.Output, StageDir}, parts...)...)
}

func (r *StagedRun) workers() int {
	if r.Workers > 0 {
		return r.Workers
	}
	return max(1, runtimeProcs())
}

func (r *StagedRun) report(frac float64, format string, args ...any) {
	if r.Progress != nil {
		r.Progress(frac, fmt.Sprintf(format, args...))
	}
}

// Run runs every stage as one task, in order, and returns the merged stats.
func (r *StagedRun) Run(ctx context.Context) (*data.Stats, error) {
	stages, err := r.Stages()
	if err != nil {
		return nil, fmt.Errorf("clean: %w", err)
	}
	var rep *TaskReport
	for _, s := range stages {
		if rep, err = r.RunTask(ctx, s, data.Task{}); err != nil {
			if rep != nil && rep.Stats != nil {
				return rep.Stats, err
			}
			return nil, err
		}
	}
	return rep.Stats, nil
}

// RunTask runs task t of a stage. ctx may be nil (display.Context()).
func (r *StagedRun) RunTask(ctx context.Context, stage string, t data.Task) (*TaskReport, error) {
	start := time.Now()
	if r.Output == "" {
		return nil, errors.New("clean: staged run: no Output")
	}
	if err := t.Check(); err != nil {
		return nil, fmt.Errorf("clean: stage %s: %w", stage, err)
	}
	before, after, cfg, err := r.split()
	if err != nil {
		return nil, fmt.Errorf("clean: %w", err)
	}
	stages, _ := r.Stages()
	known := false
	for _, s := range stages {
		known = known || s == stage
	}
	if !known {
		return nil, fmt.Errorf("clean: unknown stage %q for these steps: the stages are %v", stage, stages)
	}
	rep := &TaskReport{Stage: stage, Task: t}
	var h *MinHasher
	if cfg != nil {
		if h, err = NewMinHasher(*cfg); err != nil {
			return nil, fmt.Errorf("clean: %w", err)
		}
	}
	switch stage {
	case StageFilter:
		err = r.filter(ctx, t, before, after, h, rep)
	case StageBuckets:
		err = r.buckets(ctx, t, h, rep)
	case StageClusters:
		err = r.clusters(t, h, rep)
	case StageDedup:
		err = r.dedup(ctx, t, after, h, rep)
	case StageMerge:
		err = r.merge(t, before, after, h, rep)
	}
	rep.Seconds = time.Since(start).Seconds()
	if err != nil {
		return rep, fmt.Errorf("clean: stage %s, %s: %w", stage, t, err)
	}
	if err := data.WriteTaskMarker(r.dir("done", stage), t, rep); err != nil {
		return rep, fmt.Errorf("clean: stage %s, %s: completion marker: %w", stage, t, err)
	}
	return rep, nil
}

// pipeline is the data.Pipeline of a stage's task.
func (r *StagedRun) pipeline(t data.Task, inputs []string, read data.ReadOptions, steps []data.Step, out, format string) *data.Pipeline {
	p := &data.Pipeline{Inputs: inputs, Read: read, Steps: steps, Workers: r.Workers, Output: out, Format: format,
		Resume: true, SkipErrors: r.SkipErrors, Quiet: r.Quiet, Tasks: t.Count, TaskIndex: t.Index}
	if r.Progress != nil {
		var last time.Time
		p.Progress = func(read, written int64, done, shards int) {
			if time.Since(last) < 200*time.Millisecond && done < shards {
				return
			}
			last = time.Now()
			frac := 1.0
			if shards > 0 {
				frac = float64(done) / float64(shards)
			}
			r.report(frac, "%d of %d shards, %d documents read, %d kept", done, shards, read, written)
		}
	}
	return p
}

func (r *StagedRun) filterDir() string { return r.dir("filter") }

// intermediates are the filter stage's output shards, in input shard order.
func (r *StagedRun) intermediates(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = filepath.Join(r.filterDir(), data.ShardName("part", i, data.OutJSONLZstd))
	}
	return out
}

func (r *StagedRun) filter(ctx context.Context, t data.Task, before, after []data.Step, h *MinHasher, rep *TaskReport) error {
	if h == nil {
		// No dedup: one pass writes the final output.
		st, err := r.pipeline(t, r.Inputs, r.Read, before, r.Output, r.Format).Run(ctx)
		rep.Stats = st
		if st != nil {
			rep.Units, rep.Done, rep.Resumed = st.Shards, st.ShardsDone, st.ShardsResumed
		}
		return err
	}
	st, err := r.pipeline(t, r.Inputs, r.Read, before, r.filterDir(), data.OutJSONLZstd).Run(ctx)
	rep.Stats = st
	if st != nil {
		rep.Units, rep.Done, rep.Resumed = st.Shards, st.ShardsDone, st.ShardsResumed
	}
	if err != nil {
		return err
	}
	shards, err := data.InputShards(r.Inputs)
	if err != nil {
		return err
	}
	paths := r.intermediates(len(shards))
	var own []int
	for _, s := range shards {
		if t.Owns(s.Index) {
			own = append(own, s.Index)
		}
	}
	for k, s := range own {
		if err := ctxErr(ctx); err != nil {
			return err
		}
		r.report(float64(k)/float64(len(own)), "MinHash signatures of shard %d (%d of %d)", s, k+1, len(own))
		if _, err := writeSignatures(ctx, h, s, paths[s], r.sigPath(s), r.Read.MaxDocBytes, r.workers()); err != nil {
			return err
		}
	}
	return nil
}

func (r *StagedRun) sigPath(shard int) string {
	return r.dir("minhash", "sigs", fmt.Sprintf("part-%05d.sig", shard))
}

func (r *StagedRun) dupsPath(bucket int) string {
	return r.dir("minhash", "buckets", fmt.Sprintf("bucket-%03d.dups", bucket))
}

func (r *StagedRun) removePath(shard int) string {
	return r.dir("minhash", "remove", fmt.Sprintf("part-%05d.remove", shard))
}

func (r *StagedRun) clustersPath() string { return r.dir("minhash", "clusters.json") }

// sigFingerprint identifies the complete set of signature files.
func (r *StagedRun) sigFingerprint(h *MinHasher, n int) (string, error) {
	sum := sha256.New()
	for s := 0; s < n; s++ {
		hd, err := readSigHeader(r.sigPath(s))
		if err != nil {
			return "", fmt.Errorf("shard %d has no complete MinHash signatures (run the filter stage for it): %w", s, err)
		}
		if hd.cfg != h.cfg || hd.shard != uint32(s) {
			return "", fmt.Errorf("MinHash signatures %s were made with %+v for shard %d, not %+v for shard %d: run the filter stage again", r.sigPath(s), hd.cfg, hd.shard, h.cfg, s)
		}
		fmt.Fprintf(sum, "%d %d %d\n", s, hd.inputSize, hd.inputMtime)
	}
	return hex.EncodeToString(sum.Sum(nil)), nil
}

func (r *StagedRun) buckets(ctx context.Context, t data.Task, h *MinHasher, rep *TaskReport) error {
	shards, err := data.InputShards(r.Inputs)
	if err != nil {
		return err
	}
	fp, err := r.sigFingerprint(h, len(shards))
	if err != nil {
		return err
	}
	var own []int
	for b := 0; b < h.cfg.NumBuckets; b++ {
		if t.Owns(b) {
			own = append(own, b)
		}
	}
	rep.Units = len(own)
	sigs := make([]string, len(shards))
	for s := range sigs {
		sigs[s] = r.sigPath(s)
	}
	var mu sync.Mutex
	var firstErr error
	jobs := make(chan int)
	var wg sync.WaitGroup
	for w := 0; w < min(r.workers(), len(own)); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for b := range jobs {
				pairs, done, err := findDuplicatePairs(ctx, h, b, sigs, r.dupsPath(b), fp)
				mu.Lock()
				if err != nil && firstErr == nil {
					firstErr = err
				}
				rep.Pairs += pairs
				if done {
					rep.Done++
				} else if err == nil {
					rep.Resumed++
				}
				r.report(float64(rep.Done+rep.Resumed)/float64(len(own)), "%d of %d buckets, %d duplicate pairs", rep.Done+rep.Resumed, len(own), rep.Pairs)
				mu.Unlock()
			}
		}()
	}
	for _, b := range own {
		if ctxErr(ctx) != nil {
			break
		}
		jobs <- b
	}
	close(jobs)
	wg.Wait()
	if firstErr != nil {
		return firstErr
	}
	return ctxErr(ctx)
}

// clustersRecord is the clusters stage's result and completion marker.
type clustersRecord struct {
	Config      MinHashConfig `json:"config"`
	Shards      int           `json:"shards"`
	Fingerprint string        `json:"buckets_sha256"` // of the bucket files it was made from
	Clusters    int64         `json:"clusters"`
	Removed     int64         `json:"removed"`
	PerShard    map[int]int64 `json:"removed_per_shard,omitempty"`
}

// dupsFingerprint identifies the complete set of bucket files.
func (r *StagedRun) dupsFingerprint(h *MinHasher, sigFP string) (string, error) {
	sum := sha256.New()
	for b := 0; b < h.cfg.NumBuckets; b++ {
		fp, size, err := readDupsHeader(r.dupsPath(b), b)
		if err != nil {
			return "", fmt.Errorf("bucket %d has no duplicate pairs file (run the buckets stage for it): %w", b, err)
		}
		if fp != sigFP {
			return "", fmt.Errorf("bucket %d's duplicate pairs %s are older than the signatures: run the buckets stage again", b, r.dupsPath(b))
		}
		fmt.Fprintf(sum, "%d %s %d\n", b, fp, size)
	}
	return hex.EncodeToString(sum.Sum(nil)), nil
}

func (r *StagedRun) loadClusters() (*clustersRecord, error) {
	b, err := os.ReadFile(r.clustersPath())
	if err != nil {
		return nil, err
	}
	var c clustersRecord
	if err := json.Unmarshal(b, &c); err != nil {
		return nil, fmt.Errorf("%s: %w", r.clustersPath(), err)
	}
	return &c, nil
}

func (r *StagedRun) clusters(t data.Task, h *MinHasher, rep *TaskReport) error {
	if t.Index != 0 {
		return nil // one task clusters; the others have nothing to do
	}
	rep.Units = 1
	shards, err := data.InputShards(r.Inputs)
	if err != nil {
		return err
	}
	sigFP, err := r.sigFingerprint(h, len(shards))
	if err != nil {
		return err
	}
	fp, err := r.dupsFingerprint(h, sigFP)
	if err != nil {
		return err
	}
	if c, err := r.loadClusters(); err == nil && c.Fingerprint == fp && c.Shards == len(shards) && c.Config == h.cfg {
		rep.Resumed, rep.Clusters, rep.Removed = 1, c.Clusters, c.Removed
		return nil
	}
	// Anything made from older clusters goes first.
	os.Remove(r.clustersPath())
	os.RemoveAll(r.dir("minhash", "remove"))
	os.RemoveAll(filepath.Join(r.Output, data.MarkerDir))
	os.Remove(filepath.Join(r.Output, "stats.json"))
	dups := make([]string, h.cfg.NumBuckets)
	for b := range dups {
		dups[b] = r.dupsPath(b)
	}
	remove, clusters, err := clusterPairs(dups)
	if err != nil {
		return err
	}
	rec := clustersRecord{Config: h.cfg, Shards: len(shards), Fingerprint: fp, Clusters: clusters, PerShard: map[int]int64{}}
	for s, list := range remove {
		if s >= len(shards) {
			return fmt.Errorf("duplicate pairs name shard %d, but the input has %d shards: run every stage again", s, len(shards))
		}
		if err := writeRemoveList(r.removePath(s), list); err != nil {
			return err
		}
		rec.Removed += int64(len(list))
		rec.PerShard[s] = int64(len(list))
	}
	b, _ := json.MarshalIndent(rec, "", "  ")
	if err := data.WriteFileAtomic(r.clustersPath(), append(b, '\n')); err != nil {
		return err
	}
	rep.Done, rep.Clusters, rep.Removed = 1, rec.Clusters, rec.Removed
	return nil
}

// currentClusters checks that the clusters are complete and made from the
// current signatures and bucket files.
func (r *StagedRun) currentClusters(h *MinHasher, n int) (*clustersRecord, error) {
	sigFP, err := r.sigFingerprint(h, n)
	if err != nil {
		return nil, err
	}
	fp, err := r.dupsFingerprint(h, sigFP)
	if err != nil {
		return nil, err
	}
	c, err := r.loadClusters()
	if err != nil {
		return nil, fmt.Errorf("no clusters (run the clusters stage): %w", err)
	}
	if c.Fingerprint != fp || c.Shards != n || c.Config != h.cfg {
		return nil, fmt.Errorf("the clusters in %s are older than the bucket files: run the clusters stage again", r.clustersPath())
	}
	return c, nil
}

func (r *StagedRun) dedupSteps(after []data.Step, n int) []data.Step {
	rm := &minhashRemoveStep{path: r.removePath, lists: make([]*removeList, n)}
	for i := range rm.lists {
		rm.lists[i] = &removeList{}
	}
	return append([]data.Step{rm}, after...)
}

func (r *StagedRun) dedup(ctx context.Context, t data.Task, after []data.Step, h *MinHasher, rep *TaskReport) error {
	shards, err := data.InputShards(r.Inputs)
	if err != nil {
		return err
	}
	if _, err := r.currentClusters(h, len(shards)); err != nil {
		return err
	}
	read := data.ReadOptions{MaxDocBytes: r.Read.MaxDocBytes}
	st, err := r.pipeline(t, r.intermediates(len(shards)), read, r.dedupSteps(after, len(shards)), r.Output, r.Format).Run(ctx)
	rep.Stats = st
	if st != nil {
		rep.Units, rep.Done, rep.Resumed = st.Shards, st.ShardsDone, st.ShardsResumed
	}
	return err
}

func (r *StagedRun) merge(t data.Task, before, after []data.Step, h *MinHasher, rep *TaskReport) error {
	if t.Index != 0 {
		return nil
	}
	rep.Units = 1
	if h == nil {
		st, err := (&data.Pipeline{Inputs: r.Inputs, Steps: before, Output: r.Output, Format: r.Format, Workers: r.Workers}).Merge()
		rep.Stats = st
		if err == nil {
			rep.Done = 1
		}
		return err
	}
	shards, err := data.InputShards(r.Inputs)
	if err != nil {
		return err
	}
	fst, err := (&data.Pipeline{Inputs: r.Inputs, Steps: before, Output: r.filterDir(), Format: data.OutJSONLZstd}).Merge()
	if err != nil {
		return fmt.Errorf("filter stage: %w", err)
	}
	if _, err := r.currentClusters(h, len(shards)); err != nil {
		return err
	}
	dst, err := (&data.Pipeline{Inputs: r.intermediates(len(shards)), Steps: r.dedupSteps(after, len(shards)), Output: r.Output, Format: r.Format}).Merge()
	if err != nil {
		return fmt.Errorf("dedup stage: %w", err)
	}
	st := &data.Stats{Shards: len(shards), ShardsResumed: len(shards), Workers: r.workers(), Read: fst.Read,
		Steps: append(fst.Steps, dst.Steps...), Written: dst.Written, WrittenBytes: dst.WrittenBytes, Outputs: dst.Outputs, Seconds: dst.Seconds}
	rep.Stats, rep.Done = st, 1
	return st.WriteJSON(filepath.Join(r.Output, "stats.json"))
}

func ctxErr(ctx context.Context) error {
	if ctx == nil {
		return nil
	}
	return ctx.Err()
}
