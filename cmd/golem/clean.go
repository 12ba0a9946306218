package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/golem-lm/golem/lmlib/clean"
	"github.com/golem-lm/golem/lmlib/data"
)

func init() {
	register(command{name: "clean", summary: "run the FineWeb cleaning chain (filters, dedup, PII) over documents", run: runClean})
}

func runClean(args []string) error {
	fs := flag.NewFlagSet("clean", flag.ContinueOnError)
	out := fs.String("o", "", "output directory for the kept documents (\"\" discards them: a statistics pass)")
	format := fs.String("format", data.OutJSONLZstd, "output format: jsonl, jsonl.gz, jsonl.zst or parquet")
	html := fs.Bool("html", false, "the input text is raw HTML: extract the main text first")
	langs := fs.String("lang", "en", "comma-separated ISO 639-1 languages to keep (\"any\": every language, score threshold only)")
	workers := fs.Int("workers", 0, "worker goroutines (default GOMAXPROCS)")
	noMinHash := fs.Bool("no-minhash", false, "skip MinHash near-duplicate removal")
	noPII := fs.Bool("no-pii", false, "skip e-mail and IP replacement")
	blockDomains := fs.String("block-domains", "", "file of blocked domains, one a line (URL filter on metadata.url)")
	wordList := fs.String("word-list", "", "file of words/phrases: drop documents containing any (C4 bad-words idea)")
	resume := fs.Bool("resume", false, "skip input shards completed by an earlier run into -o")
	skipBad := fs.Bool("skip-bad", false, "count and skip malformed input records instead of failing")
	quiet := fs.Bool("q", false, "no live progress display")
	textField := fs.String("text-field", "text", "JSONL field holding the text")
	tf := addTaskFlags(fs, clean.StageFilter, clean.StageBuckets, clean.StageClusters, clean.StageDedup, clean.StageMerge)
	queue := fs.String("queue", "", "run as JetStream jobs on the golem serve hosts at this URL (one job per input shard and stage); INPUT and -o are paths inside the hosts' --files directory")
	key := fs.String("key", "", "API key for --queue (default $GOLEM_API_KEY)")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: golem clean [flags] INPUT... (files, directories or globs)\n\n"+
			"With --tasks, --task-index or --stage (or $SLURM_ARRAY_TASK_ID / $JOB_COMPLETION_INDEX set) the chain\n"+
			"runs in stages (filter, buckets, clusters, dedup, merge) as tasks sharing -o, and MinHash removes\n"+
			"exactly the near-duplicates one task would; see docs/data.md.")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		fs.Usage()
		return fmt.Errorf("clean: no input given")
	}
	opts := clean.FineWebOptions{HTML: *html, NoMinHash: *noMinHash, NoPII: *noPII}
	for _, l := range strings.Split(*langs, ",") {
		if l = strings.TrimSpace(l); l != "" {
			opts.Languages = append(opts.Languages, l)
		}
	}
	if *blockDomains != "" {
		lines, err := readLines(*blockDomains)
		if err != nil {
			return err
		}
		opts.URLFilter = &clean.URLFilter{Domains: lines}
	}
	steps, err := clean.FineWebSteps(opts)
	if err != nil {
		return err
	}
	if *wordList != "" {
		lines, err := readLines(*wordList)
		if err != nil {
			return err
		}
		w, err := clean.NewWordListFilter(lines)
		if err != nil {
			return fmt.Errorf("%s: %w", *wordList, err)
		}
		steps = append(steps[:len(steps):len(steps)], w)
	}
	if *queue != "" {
		if *blockDomains != "" || *wordList != "" || *workers != 0 {
			return fmt.Errorf("clean --queue: -block-domains, -word-list and -workers are not sent to the hosts; run without them")
		}
		return cleanQueue(*queue, *key, fs.Args(), *out, cleanRequestOptions(*format, *html, opts.Languages, *noMinHash, *noPII, *skipBad, *textField), *quiet)
	}
	task, split, stages, err := tf.resolve()
	if err != nil {
		return err
	}
	if split {
		if *out == "" {
			return fmt.Errorf("clean: a run in tasks needs -o (the directory every task shares)")
		}
		run := &clean.StagedRun{Inputs: fs.Args(), Read: data.ReadOptions{SkipBad: *skipBad, TextField: *textField},
			Steps: steps, Output: *out, Format: *format, Workers: *workers, Quiet: *quiet}
		return runStaged(run, task, stages)
	}
	p := &data.Pipeline{
		Inputs:  fs.Args(),
		Read:    data.ReadOptions{SkipBad: *skipBad, TextField: *textField},
		Steps:   steps,
		Workers: *workers,
		Output:  *out,
		Format:  *format,
		Resume:  *resume,
		Quiet:   *quiet,
	}
	stats, err := p.Run(context.Background())
	if stats != nil {
		fmt.Fprintln(os.Stderr, stats.String())
	}
	return err
}

// runStaged runs the given stages of a staged clean as one task, printing each
// task's report (and the stats table after merge).
func runStaged(run *clean.StagedRun, task data.Task, stages []string) error {
	have, err := run.Stages()
	if err != nil {
		return err
	}
	for _, stage := range stages {
		if !slices.Contains(have, stage) {
			fmt.Fprintf(os.Stderr, "clean: stage %s: nothing to do without MinHash dedup\n", stage)
			continue
		}
		rep, err := run.RunTask(context.Background(), stage, task)
		if err != nil {
			return err
		}
		fmt.Fprintln(os.Stderr, describeReport(rep))
		if stage == clean.StageMerge && rep.Stats != nil {
			fmt.Fprintln(os.Stderr, rep.Stats.String())
		}
	}
	return nil
}

// describeReport is one line about a staged task.
func describeReport(r *clean.TaskReport) string {
	s := fmt.Sprintf("clean: stage %s, %s: %d units, %d done now, %d done before", r.Stage, r.Task, r.Units, r.Done, r.Resumed)
	switch {
	case r.Stage == clean.StageBuckets:
		s += fmt.Sprintf(", %d duplicate pairs", r.Pairs)
	case r.Stage == clean.StageClusters && r.Units > 0:
		s += fmt.Sprintf(", %d clusters, %d documents to remove", r.Clusters, r.Removed)
	case r.Stats != nil:
		s += fmt.Sprintf(", %d documents read, %d written", r.Stats.Read.Docs, r.Stats.Written)
	}
	return s + fmt.Sprintf(" (%.1fs)", r.Seconds)
}

func readLines(path string) ([]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read list %s: %w", path, err)
	}
	var out []string
	for _, l := range strings.Split(string(b), "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
			out = append(out, l)
		}
	}
	return out, nil
}
