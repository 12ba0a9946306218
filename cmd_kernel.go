package main

import (
	"context"
	"errors"
	"flag"
	"fmt"

	"github.com/golem-lm/golem/internal/version"
	"github.com/golem-lm/golem/kernel"
	"github.com/golem-lm/golem/kernel/session"
)

func init() {
	register(command{name: "kernel", summary: "run the Jupyter kernel (Jupyter starts this from the kernelspec)", run: runKernel})
}

func runKernel(args []string) error {
	fs := flag.NewFlagSet("kernel", flag.ContinueOnError)
	connFile := fs.String("connection-file", "", "Jupyter connection `FILE` (JSON with ports, ip, key)")
	history := fs.String("history", "", "history `FILE` (JSONL; default <Jupyter data dir>/golem/history.jsonl, - for none)")
	noCapture := fs.Bool("no-capture", false, "do not redirect file descriptors 1 and 2 into the notebook")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	if *connFile == "" {
		return errors.New("--connection-file is required (Jupyter passes it: golem install writes the kernelspec)")
	}
	ci, err := kernel.ReadConnectionFile(*connFile)
	if err != nil {
		return err
	}
	return kernel.Run(context.Background(), kernel.Config{
		Connection:     ci,
		NewInterpreter: newSession,
		CellError:      cellError,
		CaptureFDs:     !*noCapture,
		HistoryPath:    *history,
		Implementation: "golem",
		Version:        version.String(),
	})
}

// newSession starts the yaegi session behind the kernel.
func newSession(io kernel.IO) (kernel.Interpreter, error) {
	s, err := session.New(session.Options{Stdout: io.Stdout, Stderr: io.Stderr, Stdin: io.Stdin})
	if err != nil {
		return nil, fmt.Errorf("start Go session: %w", err)
	}
	return s, nil
}

// cellError maps the session's errors onto the kernel's error output.
func cellError(err error) *kernel.CellError {
	var se *session.Error
	if errors.As(err, &se) {
		return &kernel.CellError{Name: se.Name, Value: se.Value, Traceback: se.Traceback}
	}
	return nil
}
