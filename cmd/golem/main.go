// Command golem is the one binary of the golem toolkit: a Jupyter kernel for Go,
// the lmlib pipeline stages as command-line tools, and the function host. Each
// file of this package is one command (or a few that share their flags), in the
// order of the pipeline:
//
//	install.go      golem install [--user | --sys-prefix | --prefix DIR]  the Jupyter kernelspec
//	kernel.go       golem kernel --connection-file FILE                    the kernel (Jupyter starts it)
//	clean.go        golem clean [--tasks N --task-index I] …               collect and clean (FineWeb chain)
//	clean_queue.go  golem clean --queue URL                                the same stages as jobs on golem serve
//	tasks.go        --tasks/--task-index/--merge shared by the data stages
//	tokenize.go     golem tokenize                                         encode / decode / train a BPE
//	shard.go        golem shard                                            llm.c token shards
//	train.go        golem train [--depth N]  (mpirun -np N golem train)    pretrain
//	eval.go         golem eval                                             evaluate on lm-eval style tasks
//	generate.go     golem generate                                         sample from a checkpoint
//	finetune.go     golem finetune                                         fine-tune on prompt/completion pairs
//	hf.go           golem export hf | import hf                            Hugging Face checkpoints
//	serve.go        golem serve | worker | keys                            the function host
//	call.go         golem call | jobs | deploy                             its command-line client
//	main.go         golem version, help, and the command table
//
// A command registers itself from its file's init with register, so a new
// pipeline stage adds one file and touches nothing else.
package main

import (
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/golem-lm/golem/internal/version"
	"github.com/golem-lm/golem/lmlib/gpt"
)

// command is one golem subcommand.
type command struct {
	name    string
	summary string                    // one line for `golem help`
	run     func(args []string) error // args exclude the subcommand name
}

var commands = map[string]command{}

// register adds a subcommand; called from the init function of each command's file.
func register(c command) {
	if _, dup := commands[c.name]; dup {
		panic("golem: duplicate command " + c.name)
	}
	commands[c.name] = c
}

func init() {
	register(command{name: "version", summary: "print the golem version", run: func([]string) error {
		fmt.Println("golem", version.String())
		// The CPU trainer's matrix library and kernel set (the biggest factor in its speed).
		if desc, err := gpt.BLAS(); err != nil {
			fmt.Println("blas: not available:", err)
		} else {
			fmt.Println("blas:", desc)
		}
		return nil
	}})
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: golem <command> [arguments]\n\ncommands:")
	for _, n := range known() {
		fmt.Fprintf(os.Stderr, "  %-10s %s\n", n, commands[n].summary)
	}
	fmt.Fprintln(os.Stderr, "\nRun 'golem <command> -h' for a command's flags.")
}

func main() {
	if len(os.Args) < 2 || os.Args[1] == "help" || os.Args[1] == "-h" || os.Args[1] == "--help" {
		usage()
		if len(os.Args) < 2 {
			os.Exit(2)
		}
		return
	}
	name := os.Args[1]
	if name == "--version" {
		name = "version"
	}
	c, ok := commands[name]
	if !ok {
		fmt.Fprintf(os.Stderr, "golem: unknown command %q (known: %s)\n", name, strings.Join(known(), ", "))
		os.Exit(2)
	}
	if err := c.run(os.Args[2:]); err != nil {
		fmt.Fprintf(os.Stderr, "golem %s: %v\n", name, err)
		os.Exit(1)
	}
}

func known() []string {
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}
