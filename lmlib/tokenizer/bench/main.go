// Command tokenizer-bench is the Go half of `make bench-tokenizer` and of the training
// parity vectors: it encodes or trains on documents prepared by bench.py or
// gen_train.py and prints one JSON line with its timing.
//
//	tokenizer-bench encode -vocab cl100k_base -docs docs.json [-threads 1] [-reps 5]
//	tokenizer-bench ids -vocab o200k_base -docs docs.json    (ids as JSON, for differential tests)
//	tokenizer-bench train -docs docs.json -vocab-size 8000 [-special "<|endoftext|>"] [-pattern gpt2] [-out DIR]
//
// docs.json is a JSON array of strings.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strings"
	"syscall"
	"time"

	"github.com/golem-lm/golem/lmlib/tokenizer"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: tokenizer-bench encode|train [flags]")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "encode":
		err = encode(os.Args[2:])
	case "train":
		err = train(os.Args[2:])
	case "ids":
		err = ids(os.Args[2:])
	default:
		err = fmt.Errorf("unknown mode %q", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "tokenizer-bench:", err)
		os.Exit(1)
	}
}

func readDocs(path string) ([]string, int, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, 0, err
	}
	var docs []string
	if err := json.Unmarshal(b, &docs); err != nil {
		return nil, 0, fmt.Errorf("%s: %w", path, err)
	}
	n := 0
	for _, d := range docs {
		n += len(d)
	}
	return docs, n, nil
}

func encode(args []string) error {
	fs := flag.NewFlagSet("encode", flag.ExitOnError)
	vocab := fs.String("vocab", "gpt2", "vocabulary")
	docsPath := fs.String("docs", "", "JSON array of documents")
	threads := fs.Int("threads", 1, "1: EncodeOrdinary per document on one core; >1: EncodeBatch on that many cores")
	reps := fs.Int("reps", 5, "repetitions (the best is reported)")
	prof := fs.String("cpuprofile", "", "write a CPU profile")
	fs.Parse(args)
	docs, n, err := readDocs(*docsPath)
	if err != nil {
		return err
	}
	tok, err := tokenizer.Load(*vocab)
	if err != nil {
		return err
	}
	runtime.GOMAXPROCS(*threads)
	tok.EncodeBatch(docs[:min(len(docs), 8)]) // warm up
	if *prof != "" {
		f, err := os.Create(*prof)
		if err != nil {
			return err
		}
		pprof.StartCPUProfile(f)
		defer pprof.StopCPUProfile()
	}
	best, bestCPU, tokens := time.Duration(1<<62), time.Duration(1<<62), 0
	for r := 0; r < *reps; r++ {
		start, startCPU := time.Now(), cpuTime()
		tokens = 0
		if *threads == 1 {
			for _, d := range docs {
				tokens += len(tok.EncodeOrdinary(d))
			}
		} else {
			for _, ids := range tok.EncodeBatch(docs) {
				tokens += len(ids)
			}
		}
		best = min(best, time.Since(start))
		bestCPU = min(bestCPU, cpuTime()-startCPU)
	}
	return json.NewEncoder(os.Stdout).Encode(map[string]any{
		"bytes": n, "tokens": tokens, "seconds": best.Seconds(), "mb_per_s": float64(n) / 1e6 / best.Seconds(),
		"cpu_seconds": bestCPU.Seconds()})
}

// cpuTime is the CPU time used by the process so far (user + system).
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// ids prints the EncodeOrdinary ids of every document as a JSON array of arrays (for
// differential tests against tiktoken).
func ids(args []string) error {
	fs := flag.NewFlagSet("ids", flag.ExitOnError)
	vocab := fs.String("vocab", "gpt2", "vocabulary")
	docsPath := fs.String("docs", "", "JSON array of documents")
	fs.Parse(args)
	docs, _, err := readDocs(*docsPath)
	if err != nil {
		return err
	}
	tok, err := tokenizer.Load(*vocab)
	if err != nil {
		return err
	}
	return json.NewEncoder(os.Stdout).Encode(tok.EncodeBatch(docs))
}

func train(args []string) error {
	fs := flag.NewFlagSet("train", flag.ExitOnError)
	docsPath := fs.String("docs", "", "JSON array of documents")
	size := fs.Int("vocab-size", 8000, "vocabulary size")
	special := fs.String("special", "<|endoftext|>", "comma-separated special tokens")
	pattern := fs.String("pattern", "gpt2", "pre-tokenizer")
	minFreq := fs.Int("min-frequency", 0, "minimum pair frequency")
	out := fs.String("out", "", "directory for tokenizer.json, trained.tiktoken(+.json), encoder.json, vocab.bpe")
	prof := fs.String("cpuprofile", "", "write a CPU profile")
	fs.Parse(args)
	docs, n, err := readDocs(*docsPath)
	if err != nil {
		return err
	}
	var specials []string
	if *special != "" {
		specials = strings.Split(*special, ",")
	}
	if *prof != "" {
		f, err := os.Create(*prof)
		if err != nil {
			return err
		}
		pprof.StartCPUProfile(f)
		defer pprof.StopCPUProfile()
	}
	start := time.Now()
	tok, err := tokenizer.Train(docs, tokenizer.TrainOptions{VocabSize: *size, SpecialTokens: specials,
		MinFrequency: *minFreq, Pattern: *pattern})
	if err != nil {
		return err
	}
	secs := time.Since(start).Seconds()
	if *out != "" {
		if err := os.MkdirAll(*out, 0o755); err != nil {
			return err
		}
		if err := tok.SaveHF(filepath.Join(*out, "tokenizer.json")); err != nil {
			return err
		}
		if err := tok.SaveTiktoken(filepath.Join(*out, "trained.tiktoken")); err != nil {
			return err
		}
		if err := tok.SaveGPT2(filepath.Join(*out, "encoder.json"), filepath.Join(*out, "vocab.bpe")); err != nil {
			return err
		}
	}
	return json.NewEncoder(os.Stdout).Encode(map[string]any{"bytes": n, "seconds": secs, "vocab": tok.VocabSize()})
}
