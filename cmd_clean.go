package main

import (
	"context"
	"flag"
	"fmt"
	"os"
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
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: golem clean [flags] INPUT... (files, directories or globs)")
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
