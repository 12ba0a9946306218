package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"runtime/debug"
	"strconv"
	"time"

	"github.com/golem-lm/golem/cell"
	"github.com/golem-lm/golem/cell/gomod"
	"github.com/golem-lm/golem/internal/version"
	"github.com/golem-lm/golem/kernel"
)

func init() {
	register(command{name: "kernel", summary: "run the Jupyter kernel (Jupyter starts this from the kernelspec)", run: runKernel})
}

// kernelMaxStack is the most stack one goroutine of the kernel may use. Go's
// default (1 GB) lets a runaway recursion take a gigabyte before the runtime ends
// the process; the session stops one at 128 MiB (package cell), and this limit
// ends the rest sooner.
const kernelMaxStack = 256 << 20

func runKernel(args []string) error {
	fs := flag.NewFlagSet("kernel", flag.ContinueOnError)
	connFile := fs.String("connection-file", "", "Jupyter connection `FILE` (JSON with ports, ip, key)")
	history := fs.String("history", "", "history `FILE` (JSONL; default <Jupyter data dir>/golem/history.jsonl, - for none)")
	noCapture := fs.Bool("no-capture", false, "do not redirect file descriptors 1 and 2 into the notebook")
	noSupervisor := fs.Bool("no-supervisor", false, "run the kernel in this process, with no restart when it dies")
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

	// golem kernel is a small supervisor that runs the kernel itself as its child
	// (the same binary and arguments) and starts it again when Go ends it: a stack
	// overflow or running out of memory cannot be recovered (kernel.Supervise).
	statePath, restartReason, stderrFD := os.Getenv(kernel.StateEnv), os.Getenv(kernel.RestartEnv), os.Getenv(kernel.StderrEnv)
	for _, v := range []string{kernel.StateEnv, kernel.RestartEnv, kernel.StderrEnv} {
		os.Unsetenv(v) // not for the cells' processes
	}
	if statePath == "" && !*noSupervisor && kernel.CanSupervise {
		exe, err := os.Executable()
		if err != nil {
			return fmt.Errorf("find the golem binary to run the kernel: %w", err)
		}
		// a %get in this folder built a kernel with third-party packages: start it
		// (cell/gomod checks that it still fits the go.mod and this binary)
		if wd, err := os.Getwd(); err == nil {
			if bin, ok := gomod.CurrentBinary(wd); ok {
				fmt.Fprintf(os.Stderr, "golem kernel: starting %s, built by %%get for the notebooks of %s\n", bin, wd)
				exe = bin
			}
		}
		go watchParent(ctx, cancel)
		return kernel.Supervise(ctx, kernel.SuperviseConfig{
			Command:    append([]string{exe, "kernel"}, args...),
			Connection: ci,
		})
	}
	if statePath != "" {
		go watchSupervisor(ctx, cancel, os.Getppid())
	} else {
		go watchParent(ctx, cancel)
	}
	debug.SetMaxStack(kernelMaxStack)
	var stderrPipe [2]*os.File
	if stderrFD != "" {
		fd, err := strconv.Atoi(stderrFD)
		if err == nil {
			stderrPipe, err = kernel.InheritedStderrPipe(fd)
		}
		if err != nil {
			return fmt.Errorf("%s=%q: %w", kernel.StderrEnv, stderrFD, err)
		}
	}
	return kernel.Run(ctx, kernel.Config{
		Connection:     ci,
		NewInterpreter: newSession,
		CellError:      cellError,
		CaptureFDs:     !*noCapture,
		HistoryPath:    *history,
		StatePath:      statePath,
		StderrPipe:     stderrPipe,
		RestartReason:  restartReason,
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
	watchSupervisor(ctx, stop, ppid)
}

// watchSupervisor stops the kernel when its parent process ppid is gone (Linux
// also sends the supervised kernel SIGKILL then; other systems do not).
func watchSupervisor(ctx context.Context, stop func(), ppid int) {
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
	s, err := cell.New(cell.Options{Stdout: io.Stdout, Stderr: io.Stderr, Stdin: io.Stdin})
	if err != nil {
		return nil, fmt.Errorf("start Go session: %w", err)
	}
	return s, nil
}

// cellError maps the session's errors onto the kernel's error output.
func cellError(err error) *kernel.CellError {
	var se *cell.Error
	if errors.As(err, &se) {
		return &kernel.CellError{Name: se.Name, Value: se.Value, Traceback: se.Traceback}
	}
	return nil
}
