package dist

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/golem-lm/golem/display"
	"github.com/golem-lm/golem/lmlib/train"
)

// Progress is one line of `golem train --progress FILE` (JSON lines written by
// rank 0): a step with its evaluation if it made one, or, last, the end of the
// run (Done).
type Progress struct {
	train.Point
	Of         int              `json:"of,omitempty"`   // MaxSteps
	Eval       *train.EvalPoint `json:"eval,omitempty"` // the step's validation loss
	Done       bool             `json:"done,omitempty"`
	Steps      int              `json:"steps,omitempty"`
	StopReason string           `json:"stop_reason,omitempty"`
	Checkpoint string           `json:"checkpoint,omitempty"`
	Error      string           `json:"error,omitempty"`
}

// LaunchOptions configure Launch.
type LaunchOptions struct {
	Ranks int      // processes (mpirun -np); required
	Train []string // golem train flags: --text or --train, --steps, --out, … (--progress is added)
	// Golem is the golem binary, built with MPI (make build does when OpenMPI is
	// installed). [the running program when it is golem (a notebook's kernel), else
	// golem from PATH]
	Golem string
	// MPIRun is the launcher and its flags. [mpirun --oversubscribe --bind-to none]
	// Add --host or --hostfile to spread the ranks over machines.
	MPIRun []string
	// Env is passed to every rank (KEY=VALUE, as mpirun -x).
	Env []string
	// Context ends the job when cancelled. [display.Context(): the cell's]
	Context context.Context
	// Quiet: no live display while Wait follows the job.
	Quiet bool
}

// Job is a data-parallel training run started by Launch: mpirun and its ranks,
// followed through rank 0's progress file. In a notebook, a Job as a cell's
// value shows its loss curves so far.
type Job struct {
	cmd      *exec.Cmd
	progress string
	out      bytes.Buffer // mpirun's output (rank 0's lines, errors of every rank)
	outMu    sync.Mutex
	done     chan struct{}
	err      error
	quiet    bool
	ranks    int
	stopOnce sync.Once

	mu    sync.Mutex
	res   train.Result
	final *Progress
	read  int64 // bytes of the progress file read
}

// Launch starts `mpirun -np Ranks golem train …` and returns at once; Wait
// follows the run to its end. Under the root user (containers, test machines)
// it sets OpenMPI's OMPI_ALLOW_RUN_AS_ROOT variables.
//
//	job, err := dist.Launch(dist.LaunchOptions{Ranks: 2, Train: []string{"--text", path, "--steps", "500", "--out", "runs/dp"}})
//	res, err := job.Wait()    // live status and loss chart in the cell, then the Result
func Launch(o LaunchOptions) (*Job, error) {
	if o.Ranks < 1 {
		return nil, fmt.Errorf("dist: launch: Ranks is %d; give the number of processes", o.Ranks)
	}
	for _, a := range o.Train {
		if a == "--progress" || a == "-progress" || strings.HasPrefix(a, "--progress=") {
			return nil, errors.New("dist: launch: the Train flags have --progress; Launch sets it")
		}
	}
	golem := o.Golem
	if golem == "" {
		if exe, err := os.Executable(); err == nil && filepath.Base(exe) == "golem" {
			golem = exe
		} else if p, err := exec.LookPath("golem"); err == nil {
			golem = p
		} else {
			return nil, errors.New("dist: launch: no golem binary (set LaunchOptions.Golem)")
		}
	}
	launcher := o.MPIRun
	if len(launcher) == 0 {
		launcher = []string{"mpirun", "--oversubscribe", "--bind-to", "none"}
	}
	if _, err := exec.LookPath(launcher[0]); err != nil {
		return nil, fmt.Errorf("dist: launch: %s not found (scripts/system-deps.sh installs OpenMPI's openmpi-bin): %w", launcher[0], err)
	}
	f, err := os.CreateTemp("", "golem-dp-progress-*.jsonl")
	if err != nil {
		return nil, fmt.Errorf("dist: launch: %w", err)
	}
	f.Close()
	args := append(append([]string(nil), launcher[1:]...), "-np", strconv.Itoa(o.Ranks))
	for _, kv := range o.Env {
		args = append(args, "-x", kv)
	}
	args = append(args, golem, "train")
	args = append(args, o.Train...)
	args = append(args, "--progress", f.Name())
	ctx, end := display.Call(o.Context)
	cmd := exec.CommandContext(ctx, launcher[0], args...)
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = 10 * time.Second
	cmd.Env = os.Environ()
	if os.Geteuid() == 0 {
		cmd.Env = append(cmd.Env, "OMPI_ALLOW_RUN_AS_ROOT=1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1")
	}
	j := &Job{cmd: cmd, progress: f.Name(), done: make(chan struct{}), quiet: o.Quiet, ranks: o.Ranks}
	j.res.ValLoss, j.res.BestValLoss = float32(math.NaN()), float32(math.NaN())
	w := writerFunc(func(p []byte) (int, error) {
		j.outMu.Lock()
		defer j.outMu.Unlock()
		return j.out.Write(p)
	})
	cmd.Stdout, cmd.Stderr = w, w
	if err := cmd.Start(); err != nil {
		end()
		os.Remove(f.Name())
		return nil, fmt.Errorf("dist: launch %s: %w", launcher[0], err)
	}
	go func() {
		err := cmd.Wait()
		end()
		j.poll()
		j.mu.Lock()
		switch {
		case j.final != nil && j.final.Error != "":
			j.err = fmt.Errorf("dist: golem train on %d ranks: %s", o.Ranks, j.final.Error)
		case err != nil:
			j.err = fmt.Errorf("dist: golem train on %d ranks: %v; %s", o.Ranks, err, rankError(j.Output()))
		case j.final == nil:
			j.err = fmt.Errorf("dist: golem train on %d ranks ended without its final progress line; output: %s", o.Ranks, lastLines(j.Output(), 6))
		}
		j.mu.Unlock()
		os.Remove(f.Name())
		close(j.done)
	}()
	return j, nil
}

type writerFunc func([]byte) (int, error)

func (w writerFunc) Write(p []byte) (int, error) { return w(p) }

// rankError picks a rank's own error line out of mpirun's output, else its last
// lines.
func rankError(out string) string {
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, "golem train: ") || strings.HasPrefix(l, "golem: ") {
			return "a rank said: " + strings.TrimSpace(l)
		}
	}
	return "last output: " + lastLines(out, 6)
}

func lastLines(s string, n int) string {
	l := strings.Split(strings.TrimSpace(s), "\n")
	return strings.Join(l[max(0, len(l)-n):], " | ")
}

// poll reads the new complete lines of the progress file.
func (j *Job) poll() {
	f, err := os.Open(j.progress)
	if err != nil {
		return
	}
	defer f.Close()
	j.mu.Lock()
	defer j.mu.Unlock()
	if _, err := f.Seek(j.read, io.SeekStart); err != nil {
		return
	}
	r := bufio.NewReader(f)
	for {
		line, err := r.ReadBytes('\n')
		if err != nil {
			return // an incomplete last line is read next time
		}
		j.read += int64(len(line))
		var p Progress
		if json.Unmarshal(line, &p) != nil {
			continue
		}
		if p.Done {
			q := p
			j.final = &q
			j.res.StopReason, j.res.Checkpoint = p.StopReason, p.Checkpoint
			continue
		}
		j.res.History = append(j.res.History, p.Point)
		j.res.Steps, j.res.Tokens, j.res.Loss = p.Step, p.Tokens, p.Loss
		if p.Eval != nil {
			j.res.Evals = append(j.res.Evals, *p.Eval)
			j.res.ValLoss = p.Eval.ValLoss
			if math.IsNaN(float64(j.res.BestValLoss)) || p.Eval.ValLoss < j.res.BestValLoss {
				j.res.BestValLoss = p.Eval.ValLoss
			}
		}
	}
}

// Result returns what the job reported so far (a copy).
func (j *Job) Result() *train.Result {
	j.poll()
	j.mu.Lock()
	defer j.mu.Unlock()
	r := j.res
	r.History = append([]train.Point(nil), j.res.History...)
	r.Evals = append([]train.EvalPoint(nil), j.res.Evals...)
	return &r
}

// Output is what mpirun printed so far: rank 0's status lines and any rank's
// errors.
func (j *Job) Output() string {
	j.outMu.Lock()
	defer j.outMu.Unlock()
	return j.out.String()
}

// Done is closed when the job has ended.
func (j *Job) Done() <-chan struct{} { return j.done }

// Stop ends the job: mpirun gets SIGTERM and ends every rank; the last
// checkpoint stays, for a later run with --resume.
func (j *Job) Stop() {
	j.stopOnce.Do(func() {
		if j.cmd.Process != nil {
			_ = j.cmd.Process.Signal(syscall.SIGTERM)
		}
	})
}

// Wait follows the job to its end — in a notebook a status line and the loss
// chart updated in place, elsewhere a line per evaluation unless Quiet — and
// returns its Result (the steps, curves, stop reason and last checkpoint rank 0
// reported) and the job's error, if it failed.
func (j *Job) Wait() (*train.Result, error) {
	var line, chart *display.Handle
	if !j.quiet && display.Active() {
		line, chart = display.NewHandle(), display.NewHandle()
	}
	evals := 0
	t := time.NewTicker(250 * time.Millisecond)
	defer t.Stop()
	for {
		ended := false
		select {
		case <-j.done:
			ended = true
		case <-t.C:
		}
		r := j.Result()
		if line != nil {
			line.HTML("<code>" + j.status(r) + "</code>")
			if len(r.Evals) != evals || ended {
				chart.Update(r.DisplayBundle())
			}
		} else if !j.quiet && len(r.Evals) != evals {
			fmt.Println(j.status(r))
		}
		evals = len(r.Evals)
		if ended {
			return r, j.err
		}
	}
}

func (j *Job) status(r *train.Result) string {
	s := fmt.Sprintf("%d ranks: step %d", j.ranks, r.Steps)
	if n := len(r.History); n > 0 {
		s += fmt.Sprintf("  loss %.4f  lr %.2e", r.Loss, r.History[n-1].LR)
	}
	if !math.IsNaN(float64(r.ValLoss)) {
		s += fmt.Sprintf("  val %.4f", r.ValLoss)
	}
	select {
	case <-j.done:
		if j.err != nil {
			s += "  — failed"
		} else {
			s += "  — " + r.StopReason
		}
	default:
	}
	return s
}

// String is the job's status line.
func (j *Job) String() string { return j.status(j.Result()) }

// DisplayBundle shows the job's status and its loss curves so far.
func (j *Job) DisplayBundle() display.Bundle {
	r := j.Result()
	b := r.DisplayBundle()
	st := j.status(r)
	if h, ok := b["text/html"].(string); ok {
		b["text/html"] = "<div><code>" + st + "</code></div>" + h
	}
	b["text/plain"] = st
	return b
}
