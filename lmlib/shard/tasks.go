package shard

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/golem-lm/golem/lmlib/data"
)

// TokenizeRun tokenizes documents as tasks on any number of machines sharing a
// file system, datatrove's DocumentTokenizer split: input shard i (numbered in
// the Expand order over Inputs, see data.InputShards) becomes its own token files
// Output/part-IIIII_train_000000.bin and part-IIIII_val_000000.bin (llm.c format,
// with .idx), documents split between train and validation by IsValidation, as a
// Writer splits them. Task t of N tokenizes the shards it owns (data.Task); each
// finished shard gets a completion marker Output/.golem-done/part-IIIII.json, so
// a rerun does only what is missing. Merge then checks every shard and writes
// Output/stats.json; MergeParts concatenates the parts into shards of a chosen
// size, byte-identical to what one Writer over all inputs writes.
type TokenizeRun struct {
	Inputs      []string
	Read        data.ReadOptions
	Encoder     Encoder
	Vocab       string // the encoder's name, recorded in the markers (a change redoes the shards)
	Output      string
	ValFraction float64
	Seed        uint64
	// Context stops the run between documents [display.Context()].
	Context context.Context
	// Progress, when set, is called after each shard: shards done of this task's.
	Progress func(done, shards int)
}

// PartStats are the counts of one input shard's token files; they are its
// completion marker.
type PartStats struct {
	Index        int      `json:"index"`
	Input        string   `json:"input"`
	InputSize    int64    `json:"input_size"`
	InputModTime int64    `json:"input_mtime_ns"`
	Vocab        string   `json:"vocab"`
	VocabSize    int      `json:"vocab_size"`
	EOT          int      `json:"eot"`
	ValFraction  float64  `json:"val_fraction"`
	Seed         uint64   `json:"seed"`
	Files        []string `json:"files"` // train files first, in order
	Stats                 // file names relative to the TokenizeRun's Output
}

// TokenizeStats sum PartStats over shards.
type TokenizeStats struct {
	Task          *data.Task `json:"task,omitempty"`
	Shards        int        `json:"shards"`
	ShardsDone    int        `json:"shards_done"`
	ShardsResumed int        `json:"shards_resumed"`
	Stats
	Read    data.ReadCounts `json:"read"`
	Seconds float64         `json:"seconds"`
}

func (s *TokenizeStats) add(p *PartStats) {
	s.TrainShards = append(s.TrainShards, p.TrainShards...)
	s.ValShards = append(s.ValShards, p.ValShards...)
	s.TrainTokens += p.TrainTokens
	s.ValTokens += p.ValTokens
	s.TrainDocs += p.TrainDocs
	s.ValDocs += p.ValDocs
}

// PartPrefix is the file name prefix of input shard i's token files.
func PartPrefix(i int) string { return fmt.Sprintf("part-%05d", i) }

func (r *TokenizeRun) markerPath(i int) string {
	return filepath.Join(r.Output, data.MarkerDir, PartPrefix(i)+".json")
}

func (r *TokenizeRun) check() error {
	if r.Encoder == nil {
		return errors.New("tokenize: no Encoder")
	}
	if r.Output == "" {
		return errors.New("tokenize: no Output")
	}
	if r.ValFraction < 0 || r.ValFraction > 1 {
		return fmt.Errorf("tokenize: ValFraction %g not in [0, 1]", r.ValFraction)
	}
	return nil
}

// loadPart returns the marker of shard in when it is complete and current.
func (r *TokenizeRun) loadPart(in data.InputShard) (*PartStats, bool) {
	b, err := os.ReadFile(r.markerPath(in.Index))
	if err != nil {
		return nil, false
	}
	var p PartStats
	if json.Unmarshal(b, &p) != nil {
		return nil, false
	}
	if p.Index != in.Index || p.Input != in.Path || p.InputSize != in.Size || p.InputModTime != in.ModTime ||
		p.Vocab != r.Vocab || p.VocabSize != r.Encoder.VocabSize() || p.EOT != r.Encoder.EOT() ||
		p.ValFraction != r.ValFraction || p.Seed != r.Seed {
		return nil, false
	}
	for _, f := range p.Files {
		if _, err := os.Stat(filepath.Join(r.Output, f)); err != nil {
			return nil, false
		}
	}
	return &p, true
}

// RunTask tokenizes the input shards task t owns.
func (r *TokenizeRun) RunTask(t data.Task) (*TokenizeStats, error) {
	start := time.Now()
	if err := r.check(); err != nil {
		return nil, err
	}
	if err := t.Check(); err != nil {
		return nil, fmt.Errorf("tokenize: %w", err)
	}
	all, err := data.InputShards(r.Inputs)
	if err != nil {
		return nil, fmt.Errorf("tokenize: %w", err)
	}
	st := &TokenizeStats{}
	if t.Split() {
		st.Task = &t
	}
	var own []data.InputShard
	for _, in := range all {
		if t.Owns(in.Index) {
			own = append(own, in)
		}
	}
	st.Shards = len(own)
	for _, in := range own {
		if p, ok := r.loadPart(in); ok {
			st.add(p)
			st.ShardsResumed++
			continue
		}
		p, err := r.tokenizeShard(in)
		if err != nil {
			return st, err
		}
		st.add(p)
		st.ShardsDone++
		if r.Progress != nil {
			r.Progress(st.ShardsDone+st.ShardsResumed, st.Shards)
		}
	}
	st.Seconds = time.Since(start).Seconds()
	if t.Split() {
		if err := data.WriteTaskMarker(filepath.Join(r.Output, data.MarkerDir), t, st); err != nil {
			return st, err
		}
	}
	return st, nil
}

func (r *TokenizeRun) tokenizeShard(in data.InputShard) (*PartStats, error) {
	prefix := PartPrefix(in.Index)
	os.Remove(r.markerPath(in.Index))
	removeParts(r.Output, prefix)
	opts := r.Read
	opts.Base = in.Base
	opts.Stats = &data.ReadStats{}
	rd, err := data.OpenFile(in.Path, opts)
	if err != nil {
		return nil, err
	}
	defer rd.Close()
	w, err := NewWriter(r.Output, r.Encoder, WriterOptions{Prefix: prefix, ShardTokens: MaxShardTokens,
		ValFraction: r.ValFraction, Seed: r.Seed, Context: r.Context})
	if err != nil {
		return nil, err
	}
	if err := w.AddReader(rd); err != nil {
		w.Close()
		return nil, fmt.Errorf("tokenize %s: %w", in.Path, err)
	}
	s, err := w.Close()
	if err != nil {
		return nil, err
	}
	// File names are kept relative to Output, which other machines may mount elsewhere.
	for i, f := range s.TrainShards {
		s.TrainShards[i] = filepath.Base(f)
	}
	for i, f := range s.ValShards {
		s.ValShards[i] = filepath.Base(f)
	}
	p := &PartStats{Index: in.Index, Input: in.Path, InputSize: in.Size, InputModTime: in.ModTime, Vocab: r.Vocab,
		VocabSize: r.Encoder.VocabSize(), EOT: r.Encoder.EOT(), ValFraction: r.ValFraction, Seed: r.Seed, Stats: *s,
		Files: append(append([]string(nil), s.TrainShards...), s.ValShards...)}
	b, _ := json.MarshalIndent(p, "", "  ")
	if err := data.WriteFileAtomic(r.markerPath(in.Index), b); err != nil {
		return nil, err
	}
	return p, nil
}

// removeParts removes the token files (and temporary files) of one part.
func removeParts(dir, prefix string) {
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		n := e.Name()
		if strings.HasPrefix(n, prefix+"_") || strings.HasPrefix(n, ".tmp-"+prefix+"_") {
			os.Remove(filepath.Join(dir, n))
		}
	}
}

// parts returns every shard's marker, or an error naming the shards (and tasks)
// that are missing.
func (r *TokenizeRun) parts(tasks int) ([]data.InputShard, []*PartStats, error) {
	if err := r.check(); err != nil {
		return nil, nil, err
	}
	all, err := data.InputShards(r.Inputs)
	if err != nil {
		return nil, nil, fmt.Errorf("tokenize: %w", err)
	}
	var parts []*PartStats
	var missing []int
	for _, in := range all {
		p, ok := r.loadPart(in)
		if !ok {
			missing = append(missing, in.Index)
			continue
		}
		parts = append(parts, p)
	}
	if len(missing) > 0 {
		return all, nil, fmt.Errorf("tokenize %s: %s", r.Output, data.MissingShards(all, missing, data.Task{Count: tasks}))
	}
	return all, parts, nil
}

// Merge checks that every input shard is tokenized (naming those that are not
// and the tasks to run again; tasks is the number of tasks of the run, for that
// message) and writes the summed stats to Output/stats.json.
func (r *TokenizeRun) Merge(tasks int) (*TokenizeStats, error) {
	all, parts, err := r.parts(tasks)
	if err != nil {
		return nil, err
	}
	st := &TokenizeStats{Shards: len(all), ShardsResumed: len(all)}
	for _, p := range parts {
		st.add(p)
	}
	b, _ := json.MarshalIndent(st, "", "  ")
	return st, data.WriteFileAtomic(filepath.Join(r.Output, "stats.json"), append(b, '\n'))
}

// MergeParts concatenates the token files of every input shard (in shard order,
// documents in order) into train and validation shards in dir, as a Writer with
// opts would write them from the same documents: the files are byte-identical to
// one Writer's over all inputs. It checks first that every shard is tokenized
// (tasks: see Merge). A complete earlier merge of the same parts is not redone;
// an interrupted one is started again. dir/stats.json records the result.
func (r *TokenizeRun) MergeParts(dir string, tasks int, opts WriterOptions) (*Stats, error) {
	_, parts, err := r.parts(tasks)
	if err != nil {
		return nil, err
	}
	sum := sha256.New()
	for _, p := range parts {
		b, _ := json.Marshal(p)
		sum.Write(b)
	}
	fmt.Fprintf(sum, "%+v", WriterOptions{Prefix: opts.Prefix, ShardTokens: opts.ShardTokens})
	fp := hex.EncodeToString(sum.Sum(nil))
	type mergeRecord struct {
		Parts string `json:"parts_sha256"`
		Stats
	}
	marker := filepath.Join(dir, data.MarkerDir, "merge.json")
	if b, err := os.ReadFile(marker); err == nil {
		var m mergeRecord
		if json.Unmarshal(b, &m) == nil && m.Parts == fp {
			ok := true
			for _, f := range append(append([]string(nil), m.TrainShards...), m.ValShards...) {
				if _, err := os.Stat(f); err != nil {
					ok = false
				}
			}
			if ok {
				return &m.Stats, nil
			}
		}
	}
	os.Remove(marker)
	os.Remove(filepath.Join(dir, "stats.json"))
	w, err := NewWriter(dir, r.Encoder, WriterOptions{Prefix: opts.Prefix, ShardTokens: opts.ShardTokens, Context: opts.Context})
	if err != nil {
		return nil, err
	}
	if opts.Prefix == "" {
		opts.Prefix = "shard"
	}
	removeParts(dir, opts.Prefix)
	ctx := r.Context
	if opts.Context != nil {
		ctx = opts.Context
	}
	for _, split := range []string{"train", "val"} {
		sw := w.train
		if split == "val" {
			sw = w.val
		}
		for _, p := range parts {
			files := p.TrainShards
			if split == "val" {
				files = p.ValShards
			}
			for _, f := range files {
				if ctx != nil && ctx.Err() != nil {
					w.err = fmt.Errorf("merge %s: interrupted: %w", dir, ctx.Err())
					_, err := w.Close()
					return nil, err
				}
				n, toks, err := appendPart(sw, filepath.Join(r.Output, f), r.Encoder)
				if err != nil {
					w.err = err
					w.Close()
					return nil, err
				}
				if split == "train" {
					w.stats.TrainDocs += n
					w.stats.TrainTokens += toks
				} else {
					w.stats.ValDocs += n
					w.stats.ValTokens += toks
				}
			}
		}
	}
	st, err := w.Close()
	if err != nil {
		return nil, err
	}
	b, _ := json.MarshalIndent(mergeRecord{Parts: fp, Stats: *st}, "", "  ")
	if err := data.WriteFileAtomic(marker, b); err != nil {
		return nil, err
	}
	b, _ = json.MarshalIndent(st, "", "  ")
	return st, data.WriteFileAtomic(filepath.Join(dir, "stats.json"), append(b, '\n'))
}

// appendPart adds every document of one part file to sw.
func appendPart(sw *splitWriter, path string, enc Encoder) (docs, tokens int64, err error) {
	s, err := ReadShard(path)
	if err != nil {
		return 0, 0, err
	}
	offs, err := s.Docs()
	if err != nil {
		return 0, 0, err
	}
	if s.Len() > 0 && (len(offs) == 0 || offs[0] != 0) {
		return 0, 0, fmt.Errorf("merge %s: the tokens do not start with a document", path)
	}
	if s.Header.VocabSize != enc.VocabSize() {
		return 0, 0, fmt.Errorf("merge %s: vocabulary size %d, the encoder's is %d", path, s.Header.VocabSize, enc.VocabSize())
	}
	eot := int32(enc.EOT())
	buf := make([]int, 0, 1024)
	for i := range offs {
		if s.At(int(offs[i])) != eot {
			return 0, 0, fmt.Errorf("merge %s: document %d does not start with the EOT token %d", path, i, eot)
		}
		d := s.Document(offs, i)
		buf = buf[:0]
		for _, t := range d {
			buf = append(buf, int(t))
		}
		if err := sw.add(buf); err != nil {
			return 0, 0, err
		}
		docs++
		tokens += int64(len(d) + 1)
	}
	return docs, tokens, nil
}
