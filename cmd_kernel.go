package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"strconv"
	"time"

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
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go watchParent(ctx, cancel)
	return kernel.Run(ctx, kernel.Config{
		Connection:     ci,
		NewInterpreter: newSession,
		CellError:      cellError,
		CaptureFDs:     !*noCapture,
		HistoryPath:    *history,
		Implementation: "golem",
		Version:        version.String(),
	})
}

// watchParent stops the kernel when the Jupyter process that started it is gone
// (jupyter_client passes its pid in JPY_PARENT_PID), so no kernel is left orphaned.
func watchParent(ctx context.Context, stop func()) {
	ppid, err := strconv.Atoi(os.Getenv("JPY_PARENT_PID"))
	if err != nil || ppid <= 1 || ppid != os.Getppid() {
		return
	}
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if os.Getppid() != ppid {
				stop()
				return
			}
		}
	}
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
