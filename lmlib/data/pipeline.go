package data

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/golem-lm/golem/display"
)

// Finisher is implemented by steps that keep state across documents (a dedup
// index, a global counter). Pipeline.Run calls Finish once, in step order, after
// every shard completed, and records its time in the step's stats.
type Finisher interface {
	Finish() error
}

// StepFunc adapts a function to a Step (handy in a notebook cell).
type StepFunc struct {
	StepName string
	Fn       func(d *Doc) (drop string, err error)
}

// Name returns the step's name.
func (s StepFunc) Name() string { return s.StepName }

// Process calls the function.
func (s StepFunc) Process(d *Doc) (string, error) { return s.Fn(d) }

// Pipeline reads input shards, runs Steps on every document with Workers
// goroutines, and writes the kept documents to Output, one output shard per input
// file: input file i (in the order of Expand over Inputs) becomes
// Output/Prefix-0000i.Format.
//
// Order: documents are processed in batches on all workers and put back in input
// order before writing, so the output is identical to a sequential run.
//
// Memory is bounded: at most about 2×Workers+2 batches of BatchSize documents are
// in flight, whatever the input size.
//
// Resume: after an output shard is complete (written, fsynced, renamed), a marker
// Output/.golem-done/<shard>.json holding that shard's stats is written
// atomically. With Resume set, a run skips every input shard whose marker matches
// (same input path, size and modification time, same step names), so a run that
// was interrupted (cancelled context, killed process, crash) and restarted ends
// with the same files as an uninterrupted run. Without Resume, old markers are
// removed and every shard is rewritten.
//
// Tasks: with Tasks = N > 1 the run is task TaskIndex of N (datatrove's split,
// see Task): it processes only its own input shards (numbered over all inputs,
// the same in every task), keeps its hands off the other tasks' files, and ends
// with its completion marker Output/.golem-done/task-IIIII-of-NNNNN.json (its
// stats) instead of stats.json. The tasks may run at the same time, on one
// machine or many sharing Output; Merge then checks that every shard is complete
// and writes stats.json. The output files are those of a one-task run, byte for
// byte.
type Pipeline struct {
	Inputs []string    // files, directories or globs (see Open)
	Read   ReadOptions // reader options for every input (Stats and Base are set per shard)
	Steps  []Step
	// Workers is the number of goroutines running Steps (default GOMAXPROCS).
	Workers int
	// Output is the output directory; "" runs the steps and discards the documents
	// (a statistics or indexing pass).
	Output string
	Prefix string // output shard name prefix (default "part")
	Format string // OutJSONLZstd (default), OutJSONLGzip, OutJSONL or OutParquet
	// Resume skips input shards completed by an earlier run into the same Output.
	Resume bool
	// SkipErrors drops a document whose Step returned an error (counted as
	// Errors and as the drop reason "error") instead of stopping the run.
	SkipErrors bool
	BatchSize  int  // documents per batch (default 64)
	Quiet      bool // no live progress display
	// Progress, when set, is called on the writer's goroutine after every batch
	// written: documents read and written by this run so far, and input shards
	// complete out of this task's (resumed ones included). A function host reports
	// a job's progress with it.
	Progress func(read, written int64, shardsDone, shards int)
	// Tasks is the number of tasks sharing the input shards (0 or 1: one task does
	// all); TaskIndex is this run's task, 0 ≤ TaskIndex < Tasks.
	Tasks, TaskIndex int
}

// PositionStep is a Step that needs to know where each document comes from: the
// number of its input shard (its place in the Expand order over Inputs, the same
// in every task) and its 0-based position among the documents read from that
// shard. The Pipeline calls ProcessAt instead of Process for it. MinHash dedup
// across tasks (lmlib/clean) removes documents by these coordinates.
type PositionStep interface {
	Step
	ProcessAt(shard, pos int, d *Doc) (drop string, err error)
}

// StepStats are one step's counts. Seconds is the time spent in the step summed
// over workers (CPU-seconds, roughly), so steps can be compared with each other.
type StepStats struct {
	Name     string           `json:"name"`
	In       int64            `json:"in"`
	Out      int64            `json:"out"`
	BytesIn  int64            `json:"bytes_in"`
	BytesOut int64            `json:"bytes_out"`
	Dropped  map[string]int64 `json:"dropped,omitempty"`
	Errors   int64            `json:"errors"`
	Seconds  float64          `json:"seconds"`
}

func (s *StepStats) add(o StepStats) {
	s.In += o.In
	s.Out += o.Out
	s.BytesIn += o.BytesIn
	s.BytesOut += o.BytesOut
	s.Errors += o.Errors
	s.Seconds += o.Seconds
	for k, v := range o.Dropped {
		if s.Dropped == nil {
			s.Dropped = map[string]int64{}
		}
		s.Dropped[k] += v
	}
}

// ShardStats are the counts of one input shard → output shard; they are the
// content of the shard's completion marker.
type ShardStats struct {
	Index        int         `json:"index"`
	Input        string      `json:"input"`
	InputSize    int64       `json:"input_size"`
	InputModTime int64       `json:"input_mtime_ns"`
	Output       string      `json:"output,omitempty"`
	StepNames    []string    `json:"step_names"`
	Read         ReadCounts  `json:"read"`
	Steps        []StepStats `json:"steps"`
	Written      int64       `json:"written_docs"`
	WrittenBytes int64       `json:"written_bytes"`
}

// Stats are a pipeline run's counts, summed over every shard (those completed by
// an earlier run included, from their markers). Run writes them to
// Output/stats.json; in a notebook a Stats value shows itself as a table.
type Stats struct {
	Task          *Task       `json:"task,omitempty"` // set for one task of a split run
	Shards        int         `json:"shards"`
	ShardsDone    int         `json:"shards_done"`    // completed by this run
	ShardsResumed int         `json:"shards_resumed"` // completed by an earlier run, skipped
	Workers       int         `json:"workers"`
	Read          ReadCounts  `json:"read"`
	Steps         []StepStats `json:"steps"`
	Written       int64       `json:"written_docs"`
	WrittenBytes  int64       `json:"written_bytes"`
	Outputs       []string    `json:"outputs,omitempty"`
	Seconds       float64     `json:"seconds"` // wall time of this run
	FinishSeconds []float64   `json:"finish_seconds,omitempty"`
}

func (s *Stats) addShard(sh *ShardStats) {
	s.Read.Add(sh.Read)
	for i := range sh.Steps {
		if i < len(s.Steps) {
			s.Steps[i].add(sh.Steps[i])
		}
	}
	s.Written += sh.Written
	s.WrittenBytes += sh.WrittenBytes
	if sh.Output != "" {
		s.Outputs = append(s.Outputs, sh.Output)
	}
}

// DisplayBundle renders the stats as a table: one row for reading, one per step,
// one for writing.
func (s *Stats) DisplayBundle() display.Bundle {
	header := []string{"stage", "in", "out", "dropped", "drop reasons", "errors", "MB in", "seconds"}
	mb := func(b int64) string { return fmt.Sprintf("%.2f", float64(b)/1e6) }
	skip := ""
	if s.Read.Skipped > 0 {
		skip = reasons(s.Read.Reasons)
	}
	rows := [][]string{{"read", "", fmt.Sprint(s.Read.Docs), fmt.Sprint(s.Read.Skipped), skip, "",
		mb(s.Read.Bytes), ""}}
	for _, st := range s.Steps {
		rows = append(rows, []string{st.Name, fmt.Sprint(st.In), fmt.Sprint(st.Out), fmt.Sprint(st.In - st.Out),
			reasons(st.Dropped), fmt.Sprint(st.Errors), mb(st.BytesIn), fmt.Sprintf("%.2f", st.Seconds)})
	}
	rows = append(rows, []string{"write", "", fmt.Sprint(s.Written), "", "", "", mb(s.WrittenBytes), ""})
	b := display.Table(header, rows)
	sum := fmt.Sprintf("%d shards (%d done now, %d resumed), %d workers, %.1fs", s.Shards, s.ShardsDone,
		s.ShardsResumed, s.Workers, s.Seconds)
	b["text/html"] = "<div>" + sum + "</div>" + b["text/html"].(string)
	b["text/plain"] = sum + "\n" + b["text/plain"].(string)
	return b
}

// String is the plain-text table.
func (s *Stats) String() string { return s.DisplayBundle()["text/plain"].(string) }

func reasons(m map[string]int64) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if m[keys[i]] != m[keys[j]] {
			return m[keys[i]] > m[keys[j]]
		}
		return keys[i] < keys[j]
	})
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s:%d", k, m[k]))
	}
	return strings.Join(parts, " ")
}

// WriteJSON writes the stats to path atomically.
func (s *Stats) WriteJSON(path string) error {
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	return WriteFileAtomic(path, append(b, '\n'))
}

// LoadStats reads stats written by WriteJSON.
func LoadStats(path string) (*Stats, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("data: load stats %s: %w", path, err)
	}
	var s Stats
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("data: load stats %s: %w", path, err)
	}
	return &s, nil
}

// MarkerDir is the directory of completion markers inside a pipeline's Output.
const MarkerDir = ".golem-done"

type shardJob struct {
	ShardStats
	base string
}

type batch struct {
	seq   int64
	shard int
	docs  []*Doc
	pos   []int // position of each document in its input shard (with PositionSteps)
	end   bool  // last batch of its shard: read holds the shard's read counts
	read  ReadCounts
	steps []StepStats
}

// Run executes the pipeline; ctx may be nil (display.Context(): in a notebook, the
// cell's context, which Jupyter's interrupt cancels). It returns the stats also when
// it fails (what completed before the error). Cancelling ctx stops the run after
// the shards already complete; a later Run with Resume continues from there.
func (p *Pipeline) Run(ctx context.Context) (*Stats, error) {
	start := time.Now()
	ctx, end := display.Call(ctx)
	defer end()
	workers := p.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	bsize := p.BatchSize
	if bsize <= 0 {
		bsize = 64
	}
	prefix := p.Prefix
	if prefix == "" {
		prefix = "part"
	}
	format := p.Format
	if format == "" {
		format = OutJSONLZstd
	}
	if err := checkOutFormat(format); err != nil {
		return nil, fmt.Errorf("data: pipeline: %w", err)
	}
	if len(p.Inputs) == 0 {
		return nil, errors.New("data: pipeline: no Inputs")
	}
	names := make([]string, len(p.Steps))
	for i, s := range p.Steps {
		if s == nil {
			return nil, fmt.Errorf("data: pipeline: step %d is nil", i)
		}
		names[i] = s.Name()
	}
	task := Task{Index: p.TaskIndex, Count: p.Tasks}
	if err := task.Check(); err != nil {
		return nil, fmt.Errorf("data: pipeline: %w", err)
	}
	stats := &Stats{Workers: workers, Steps: make([]StepStats, len(p.Steps))}
	if task.Split() {
		stats.Task = &task
	}
	for i := range stats.Steps {
		stats.Steps[i].Name = names[i]
	}

	// Input shards, numbered over all inputs; this task's are those it owns.
	all, err := InputShards(p.Inputs)
	if err != nil {
		return nil, fmt.Errorf("data: pipeline: %w", err)
	}
	var shards []*shardJob
	for _, in := range all {
		if !task.Owns(in.Index) {
			continue
		}
		j := &shardJob{base: in.Base}
		j.Index, j.Input, j.InputSize, j.InputModTime, j.StepNames = in.Index, in.Path, in.Size, in.ModTime, names
		if p.Output != "" {
			j.Output = filepath.Join(p.Output, ShardName(prefix, j.Index, format))
		}
		shards = append(shards, j)
	}
	stats.Shards = len(shards)

	// Resume: take completed shards from their markers.
	var todo []*shardJob
	if p.Output != "" {
		if err := os.MkdirAll(filepath.Join(p.Output, MarkerDir), 0o755); err != nil {
			return nil, fmt.Errorf("data: pipeline: %w", err)
		}
		if task.Split() {
			// Other tasks may be writing into Output right now: touch only our shards.
			for _, j := range shards {
				removeTempsOf(p.Output, filepath.Base(j.Output))
				if !p.Resume {
					os.Remove(markerPath(p.Output, j.Output))
				}
			}
			if !p.Resume {
				os.Remove(filepath.Join(p.Output, MarkerDir, task.TaskMarkerName()))
			}
		} else {
			removeTemps(p.Output, prefix)
			if !p.Resume {
				os.RemoveAll(filepath.Join(p.Output, MarkerDir))
				os.MkdirAll(filepath.Join(p.Output, MarkerDir), 0o755)
				removeStaleShards(p.Output, prefix, format, len(all))
			}
		}
	}
	for _, j := range shards {
		if p.Output != "" && p.Resume {
			if m, ok := loadMarker(p.Output, j); ok {
				stats.addShard(m)
				stats.ShardsResumed++
				continue
			}
		}
		todo = append(todo, j)
	}
	positions := false
	for _, s := range p.Steps {
		if _, ok := s.(PositionStep); ok {
			positions = true
		}
	}

	var prog *display.Progress
	if !p.Quiet {
		prog = display.NewProgress("pipeline docs", 0)
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var errOnce sync.Once
	var runErr error
	fail := func(err error) {
		errOnce.Do(func() { runErr = err; cancel() })
	}

	inflight := make(chan struct{}, 2*workers+2)
	jobs := make(chan *batch, workers)
	results := make(chan *batch, workers)

	// Reader: one shard after another, in order.
	go func() {
		defer close(jobs)
		var seq int64
		send := func(b *batch) bool {
			select {
			case inflight <- struct{}{}:
			case <-ctx.Done():
				return false
			}
			b.seq = seq
			seq++
			jobs <- b
			return true
		}
		for ti, j := range todo {
			opts := p.Read
			opts.Stats = &ReadStats{}
			opts.Base = j.base
			r, err := OpenFile(j.Input, opts)
			if err != nil {
				fail(err)
				return
			}
			cur := &batch{shard: ti}
			pos := 0
			for {
				d, err := r.Next()
				if err != nil {
					if err == io.EOF {
						break
					}
					r.Close()
					fail(err)
					return
				}
				cur.docs = append(cur.docs, d)
				if positions {
					cur.pos = append(cur.pos, pos)
				}
				pos++
				if len(cur.docs) >= bsize {
					if !send(cur) {
						r.Close()
						return
					}
					cur = &batch{shard: ti}
				}
			}
			if err := r.Close(); err != nil {
				fail(fmt.Errorf("data: close %s: %w", j.Input, err))
				return
			}
			cur.end, cur.read = true, opts.Stats.Counts()
			if !send(cur) {
				return
			}
		}
	}()

	// Workers.
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for b := range jobs {
				if ctx.Err() == nil {
					if err := p.process(b, todo[b.shard].Index); err != nil {
						fail(err)
					}
				}
				results <- b
			}
		}()
	}
	go func() { wg.Wait(); close(results) }()

	// Writer: put batches back in order, write, complete shards.
	pending := map[int64]*batch{}
	var next int64
	var out *FileWriter
	curShard := -1
	var sh *ShardStats
	var readNow, writtenNow int64
	for b := range results {
		pending[b.seq] = b
		for {
			b, ok := pending[next]
			if !ok {
				break
			}
			delete(pending, next)
			next++
			<-inflight
			if ctx.Err() != nil {
				continue
			}
			if b.shard != curShard {
				curShard = b.shard
				j := todo[b.shard]
				sh = &ShardStats{Index: j.Index, Input: j.Input, InputSize: j.InputSize, InputModTime: j.InputModTime,
					Output: j.Output, StepNames: names, Steps: make([]StepStats, len(names))}
				for i := range sh.Steps {
					sh.Steps[i].Name = names[i]
				}
				if j.Output != "" {
					w, err := NewFileWriter(j.Output, format)
					if err != nil {
						fail(err)
						continue
					}
					out = w
				}
			}
			for i := range b.steps {
				sh.Steps[i].add(b.steps[i])
			}
			for _, d := range b.docs {
				if out != nil {
					if err := out.Write(d); err != nil {
						fail(err)
						break
					}
				}
				sh.Written++
				sh.WrittenBytes += int64(len(d.Text))
			}
			if prog != nil {
				prog.Add(int64(len(b.docs)), fmt.Sprintf("shard %d/%d", b.shard+1+stats.ShardsResumed, stats.Shards))
			}
			if len(b.steps) > 0 {
				readNow += b.steps[0].In
			} else if len(p.Steps) == 0 {
				readNow += int64(len(b.docs))
			}
			writtenNow += int64(len(b.docs))
			if b.end && ctx.Err() == nil {
				sh.Read = b.read
				if out != nil {
					if err := out.Close(); err != nil {
						fail(err)
						continue
					}
					out = nil
					mb, _ := json.MarshalIndent(sh, "", "  ")
					if err := WriteFileAtomic(markerPath(p.Output, sh.Output), mb); err != nil {
						fail(err)
						continue
					}
				}
				stats.addShard(sh)
				stats.ShardsDone++
			}
			if p.Progress != nil {
				p.Progress(readNow, writtenNow, stats.ShardsDone+stats.ShardsResumed, stats.Shards)
			}
		}
	}
	if out != nil {
		out.Abort()
	}
	if runErr == nil && ctx.Err() != nil {
		runErr = ctx.Err()
	}
	if runErr == nil {
		for i, s := range p.Steps {
			if f, ok := s.(Finisher); ok {
				t0 := time.Now()
				if err := f.Finish(); err != nil {
					runErr = fmt.Errorf("data: pipeline: finish step %s: %w", names[i], err)
					break
				}
				stats.Steps[i].Seconds += time.Since(t0).Seconds()
			}
		}
	}
	sort.Strings(stats.Outputs)
	stats.Seconds = time.Since(start).Seconds()
	if prog != nil {
		status := "done"
		if runErr != nil {
			status = "stopped: " + runErr.Error()
		}
		prog.Done(status)
	}
	if p.Output != "" {
		if task.Split() {
			// A split task's stats are its completion marker, written only when the task
			// is complete; Merge sums the shards into stats.json.
			if runErr == nil {
				if err := WriteTaskMarker(filepath.Join(p.Output, MarkerDir), task, stats); err != nil {
					runErr = err
				}
			}
		} else if err := stats.WriteJSON(filepath.Join(p.Output, "stats.json")); err != nil && runErr == nil {
			runErr = err
		}
	}
	return stats, runErr
}

// Merge is the final step of a run split into tasks: it checks that every input
// shard has its completion marker (naming the shards, and the tasks, that are
// missing), sums the shards' stats, removes output shards of an earlier run with
// more inputs, and writes Output/stats.json. It reads only markers, so it is quick.
// Finish of Finisher steps is not called (each task called it for its part).
func (p *Pipeline) Merge() (*Stats, error) {
	if p.Output == "" {
		return nil, errors.New("data: merge: no Output")
	}
	prefix, format := p.Prefix, p.Format
	if prefix == "" {
		prefix = "part"
	}
	if format == "" {
		format = OutJSONLZstd
	}
	names := make([]string, len(p.Steps))
	for i, s := range p.Steps {
		if s == nil {
			return nil, fmt.Errorf("data: merge: step %d is nil", i)
		}
		names[i] = s.Name()
	}
	all, err := InputShards(p.Inputs)
	if err != nil {
		return nil, fmt.Errorf("data: merge: %w", err)
	}
	start := time.Now()
	workers := p.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	stats := &Stats{Shards: len(all), Workers: workers, Steps: make([]StepStats, len(names))}
	for i := range stats.Steps {
		stats.Steps[i].Name = names[i]
	}
	var missing []int
	for _, in := range all {
		j := &shardJob{ShardStats: ShardStats{Index: in.Index, Input: in.Path, InputSize: in.Size, InputModTime: in.ModTime,
			StepNames: names, Output: filepath.Join(p.Output, ShardName(prefix, in.Index, format))}}
		m, ok := loadMarker(p.Output, j)
		if !ok {
			missing = append(missing, in.Index)
			continue
		}
		stats.addShard(m)
		stats.ShardsResumed++
	}
	if len(missing) > 0 {
		return stats, fmt.Errorf("data: merge %s: %s", p.Output, MissingShards(all, missing, Task{Count: p.Tasks}))
	}
	removeStaleShards(p.Output, prefix, format, len(all))
	sort.Strings(stats.Outputs)
	stats.Seconds = time.Since(start).Seconds()
	return stats, stats.WriteJSON(filepath.Join(p.Output, "stats.json"))
}

// process runs every step over a batch of input shard number shard, step after
// step, dropping documents.
func (p *Pipeline) process(b *batch, shard int) error {
	b.steps = make([]StepStats, len(p.Steps))
	docs, pos := b.docs, b.pos
	for i, s := range p.Steps {
		st := &b.steps[i]
		t0 := time.Now()
		kept := docs[:0]
		keptPos := pos[:0]
		ps, _ := s.(PositionStep)
		for k, d := range docs {
			st.In++
			st.BytesIn += int64(len(d.Text))
			var drop string
			var err error
			if ps != nil {
				drop, err = safeProcessAt(ps, shard, pos[k], d)
			} else {
				drop, err = safeProcess(s, d)
			}
			if err != nil {
				if !p.SkipErrors {
					return fmt.Errorf("data: pipeline: step %s: doc %q: %w", s.Name(), d.ID, err)
				}
				st.Errors++
				drop = "error"
			}
			if drop != "" {
				if st.Dropped == nil {
					st.Dropped = map[string]int64{}
				}
				st.Dropped[drop]++
				continue
			}
			st.Out++
			st.BytesOut += int64(len(d.Text))
			kept = append(kept, d)
			if pos != nil {
				keptPos = append(keptPos, pos[k])
			}
		}
		st.Seconds = time.Since(t0).Seconds()
		// Clear the tail so dropped documents can be collected.
		for k := len(kept); k < len(docs); k++ {
			docs[k] = nil
		}
		docs = kept
		if pos != nil {
			pos = keptPos
		}
	}
	b.docs, b.pos = docs, pos
	return nil
}

func safeProcessAt(s PositionStep, shard, pos int, d *Doc) (drop string, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("panic: %v", p)
		}
	}()
	return s.ProcessAt(shard, pos, d)
}

func safeProcess(s Step, d *Doc) (drop string, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("panic: %v", p)
		}
	}()
	return s.Process(d)
}

// commonDir is the deepest directory containing every one of dirs.
func commonDir(dirs []string) string {
	if len(dirs) == 1 {
		return dirs[0]
	}
	parts := func(d string) []string {
		abs, err := filepath.Abs(d)
		if err != nil {
			abs = d
		}
		return strings.Split(filepath.ToSlash(abs), "/")
	}
	c := parts(dirs[0])
	for _, d := range dirs[1:] {
		p := parts(d)
		n := 0
		for n < len(c) && n < len(p) && c[n] == p[n] {
			n++
		}
		c = c[:n]
	}
	out := filepath.FromSlash(strings.Join(c, "/"))
	if out == "" {
		out = "/"
	}
	return out
}

func markerPath(outDir, shardPath string) string {
	return filepath.Join(outDir, MarkerDir, filepath.Base(shardPath)+".json")
}

func loadMarker(outDir string, j *shardJob) (*ShardStats, bool) {
	if j.Output == "" {
		return nil, false
	}
	b, err := os.ReadFile(markerPath(outDir, j.Output))
	if err != nil {
		return nil, false
	}
	var m ShardStats
	if json.Unmarshal(b, &m) != nil {
		return nil, false
	}
	if m.Input != j.Input || m.InputSize != j.InputSize || m.InputModTime != j.InputModTime ||
		m.Output != j.Output || strings.Join(m.StepNames, "\x00") != strings.Join(j.StepNames, "\x00") {
		return nil, false
	}
	if _, err := os.Stat(j.Output); err != nil {
		return nil, false
	}
	return &m, true
}

// removeTemps removes temporary files left by an interrupted run.
func removeTemps(dir, prefix string) {
	for _, d := range []string{dir, filepath.Join(dir, MarkerDir)} {
		ents, _ := os.ReadDir(d)
		for _, e := range ents {
			n := e.Name()
			if isTempName(n) && (strings.HasPrefix(n, prefix+"-") || strings.HasPrefix(n, "stats.json")) {
				os.Remove(filepath.Join(d, n))
			}
		}
	}
}

// removeTempsOf removes the temporary files of one output shard and of its
// marker.
func removeTempsOf(dir, shard string) {
	for _, d := range []string{dir, filepath.Join(dir, MarkerDir)} {
		ents, _ := os.ReadDir(d)
		for _, e := range ents {
			if n := e.Name(); isTempName(n) && strings.HasPrefix(n, shard+".") {
				os.Remove(filepath.Join(d, n))
			}
		}
	}
}

// removeStaleShards removes prefix-NNNNN.format files with NNNNN >= n from an
// earlier run with more input shards.
func removeStaleShards(dir, prefix, format string, n int) {
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		var i int
		name := e.Name()
		if !strings.HasPrefix(name, prefix+"-") || !strings.HasSuffix(name, "."+format) {
			continue
		}
		mid := strings.TrimSuffix(strings.TrimPrefix(name, prefix+"-"), "."+format)
		if _, err := fmt.Sscanf(mid, "%05d", &i); err == nil && len(mid) == 5 && i >= n {
			os.Remove(filepath.Join(dir, name))
		}
	}
}
