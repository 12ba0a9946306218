package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/golem-lm/golem/lmlib/data"
	"github.com/golem-lm/golem/lmlib/shard"
	"github.com/golem-lm/golem/lmlib/tokenizer"
)

func init() {
	register(command{name: "tokenize", summary: "encode stdin lines to token ids, or decode id lines to text", run: runTokenize})
}

// runTokenize: golem tokenize --vocab FILE|gpt2|cl100k_base|o200k_base [--decode] [--allow-special]
func runTokenize(args []string) error { return tokenizeMain(args, os.Stdin, os.Stdout) }

func tokenizeMain(args []string, stdin io.Reader, stdout io.Writer) error {
	if len(args) > 0 && args[0] == "train" {
		return tokenizeTrain(args[1:], stdout)
	}
	fs := flag.NewFlagSet("tokenize", flag.ContinueOnError)
	vocab := fs.String("vocab", "gpt2", "vocabulary: gpt2, r50k_base, p50k_base, cl100k_base, o200k_base, or a tokenizer.json, encoder.json/vocab.bpe or .tiktoken file")
	decode := fs.Bool("decode", false, "read lines of space-separated ids and write the text they decode to")
	allow := fs.Bool("allow-special", false, "encode special tokens such as <|endoftext|> as their ids (default: they are an error)")
	ordinary := fs.Bool("ordinary", false, "encode special tokens as ordinary text")
	outDir := fs.String("o", "", "tokenize documents of INPUT files into llm.c token files in this directory, one per input file")
	val := fs.Float64("val", 0, "with -o: fraction of documents for validation files (by a seeded hash of the id)")
	seed := fs.Uint64("seed", 0, "with -o: seed of the train/validation split")
	split := fs.String("split", data.SplitFile, "with -o: how text files split into documents: file, paragraph or line")
	textField := fs.String("text-field", "", "with -o: JSONL field / Parquet column with the text (default text)")
	tf := addTaskFlags(fs, "tokenize", "merge")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: golem tokenize --vocab VOCAB [--decode] [--allow-special | --ordinary] < input\n"+
			"       golem tokenize --vocab VOCAB -o DIR [--val F] [--tasks N --task-index I --stage S] INPUT...\n"+
			"       golem tokenize train --vocab-size N --out DIR [--pattern P] [--special S,...] INPUT...\n\n"+
			"Encodes each input line (without its newline) to one line of space-separated token ids,\n"+
			"or with --decode turns each line of ids back into text; with -o tokenizes the documents of\n"+
			"INPUT files into DIR/part-NNNNN_{train,val}_000000.bin (llm.c format), one per input file, as\n"+
			"tasks if asked (docs/data.md); train learns a new vocabulary (run `golem tokenize train -h`).")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *outDir != "" {
		if fs.NArg() == 0 {
			return errors.New("tokenize -o: give the input files, directories or globs")
		}
		tok, err := tokenizer.Load(*vocab)
		if err != nil {
			return err
		}
		task, _, stages, err := tf.resolve()
		if err != nil {
			return err
		}
		run := &shard.TokenizeRun{Inputs: fs.Args(), Read: data.ReadOptions{TextSplit: *split, TextField: *textField},
			Encoder: tok, Vocab: *vocab, Output: *outDir, ValFraction: *val, Seed: *seed}
		for _, stage := range stages {
			if stage == "merge" {
				if task.Index != 0 {
					continue
				}
				st, err := run.Merge(task.Tasks())
				if err != nil {
					return err
				}
				fmt.Fprintf(stdout, "tokenize: %d shards: train %d documents, %d tokens; val %d documents, %d tokens (%s/stats.json)\n",
					st.Shards, st.TrainDocs, st.TrainTokens, st.ValDocs, st.ValTokens, *outDir)
				continue
			}
			st, err := run.RunTask(task)
			if err != nil {
				return err
			}
			fmt.Fprintf(stdout, "tokenize %s: %d shards, %d done now, %d done before; train %d tokens, val %d tokens (%.1fs)\n",
				task, st.Shards, st.ShardsDone, st.ShardsResumed, st.TrainTokens, st.ValTokens, st.Seconds)
		}
		return nil
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q (input comes from stdin; give -o DIR to tokenize files)", fs.Arg(0))
	}
	tok, err := tokenizer.Load(*vocab)
	if err != nil {
		return err
	}
	in := bufio.NewReaderSize(stdin, 1<<20)
	out := bufio.NewWriterSize(stdout, 1<<20)
	defer out.Flush()
	lineNo := 0
	for {
		line, err := in.ReadString('\n')
		if len(line) == 0 && err == io.EOF {
			return nil
		}
		if err != nil && err != io.EOF {
			return fmt.Errorf("read stdin: %w", err)
		}
		lineNo++
		line = strings.TrimSuffix(line, "\n")
		if *decode {
			var ids []int
			for _, f := range strings.Fields(line) {
				id, perr := strconv.Atoi(f)
				if perr != nil {
					return fmt.Errorf("stdin line %d: %q is not a token id", lineNo, f)
				}
				ids = append(ids, id)
			}
			b, derr := tok.DecodeBytes(ids)
			if derr != nil {
				return fmt.Errorf("stdin line %d: %w", lineNo, derr)
			}
			out.Write(b)
			out.WriteByte('\n')
		} else {
			var ids []int
			var eerr error
			switch {
			case *ordinary:
				ids = tok.EncodeOrdinary(line)
			case *allow:
				ids, eerr = tok.EncodeAllowed(line, tokenizer.AllSpecial)
			default:
				ids, eerr = tok.Encode(line)
			}
			if eerr != nil {
				return fmt.Errorf("stdin line %d: %w", lineNo, eerr)
			}
			buf := make([]byte, 0, len(ids)*6)
			for i, id := range ids {
				if i > 0 {
					buf = append(buf, ' ')
				}
				buf = strconv.AppendInt(buf, int64(id), 10)
			}
			buf = append(buf, '\n')
			out.Write(buf)
		}
		if err == io.EOF {
			return nil
		}
	}
}

// tokenizeTrain: golem tokenize train --vocab-size N --out DIR [--pattern P] [--special S,...]
// [--min-frequency F] [--text-field F] INPUT... (files, directories or globs that
// lmlib/data reads: text, JSONL, Parquet, WARC/WET, compressed or not).
func tokenizeTrain(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("tokenize train", flag.ContinueOnError)
	size := fs.Int("vocab-size", 0, "vocabulary size: special tokens + 256 bytes + merges (required)")
	out := fs.String("out", "", "output directory: tokenizer.json, vocab.tiktoken (+.json), encoder.json, vocab.bpe (required)")
	pattern := fs.String("pattern", tokenizer.PatternGPT2, "pre-tokenizer: gpt2, cl100k or o200k")
	special := fs.String("special", "<|endoftext|>", "comma-separated special tokens (they get the first ids)")
	minFreq := fs.Int("min-frequency", 0, "stop when the most frequent pair occurs fewer times")
	textField := fs.String("text-field", "", "JSONL field / Parquet column with the text (default text)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *size == 0 || *out == "" || fs.NArg() == 0 {
		return fmt.Errorf("train needs --vocab-size, --out and at least one input (run `golem tokenize train -h`)")
	}
	var specials []string
	if *special != "" {
		specials = strings.Split(*special, ",")
	}
	opts := tokenizer.TrainOptions{VocabSize: *size, SpecialTokens: specials, MinFrequency: *minFreq,
		Pattern: *pattern, Name: filepath.Base(*out), Progress: true}
	inputs := fs.Args()
	for _, in := range inputs {
		if files, err := data.Expand(in); err != nil {
			return err
		} else if len(files) == 0 {
			return fmt.Errorf("input %s matches no files", in)
		}
	}
	var cur data.Reader
	var rerr error
	next := func() (string, bool) {
		for {
			if cur == nil {
				if len(inputs) == 0 || rerr != nil {
					return "", false
				}
				cur, rerr = data.Open(inputs[0], data.ReadOptions{TextField: *textField})
				if rerr != nil {
					return "", false
				}
				inputs = inputs[1:]
			}
			d, err := cur.Next()
			if err == nil {
				return d.Text, true
			}
			cur.Close()
			cur = nil
			if err != io.EOF {
				rerr = err
				return "", false
			}
		}
	}
	tok, err := tokenizer.TrainFunc(next, opts)
	if rerr != nil {
		return rerr
	}
	if err != nil {
		return err
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		return err
	}
	if err := tok.SaveHF(filepath.Join(*out, "tokenizer.json")); err != nil {
		return err
	}
	if err := tok.SaveTiktoken(filepath.Join(*out, "vocab.tiktoken")); err != nil {
		return err
	}
	if err := tok.SaveGPT2(filepath.Join(*out, "encoder.json"), filepath.Join(*out, "vocab.bpe")); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s: wrote %s/{tokenizer.json,vocab.tiktoken,vocab.tiktoken.json,encoder.json,vocab.bpe}\n", tok, *out)
	return nil
}
