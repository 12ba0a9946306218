package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/golem-lm/golem/lmlib/tokenizer"
)

func init() {
	register(command{name: "tokenize", summary: "encode stdin lines to token ids, or decode id lines to text", run: runTokenize})
}

// runTokenize: golem tokenize --vocab FILE|gpt2|cl100k_base|o200k_base [--decode] [--allow-special]
func runTokenize(args []string) error { return tokenizeMain(args, os.Stdin, os.Stdout) }

func tokenizeMain(args []string, stdin io.Reader, stdout io.Writer) error {
	fs := flag.NewFlagSet("tokenize", flag.ContinueOnError)
	vocab := fs.String("vocab", "gpt2", "vocabulary: gpt2, r50k_base, p50k_base, cl100k_base, o200k_base, or a tokenizer.json, encoder.json/vocab.bpe or .tiktoken file")
	decode := fs.Bool("decode", false, "read lines of space-separated ids and write the text they decode to")
	allow := fs.Bool("allow-special", false, "encode special tokens such as <|endoftext|> as their ids (default: they are an error)")
	ordinary := fs.Bool("ordinary", false, "encode special tokens as ordinary text")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: golem tokenize --vocab VOCAB [--decode] [--allow-special | --ordinary] < input\n\n"+
			"Encodes each input line (without its newline) to one line of space-separated token ids,\n"+
			"or with --decode turns each line of ids back into text.")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q (input comes from stdin)", fs.Arg(0))
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
