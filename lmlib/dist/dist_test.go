package dist

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golem-lm/golem/display"
	"github.com/golem-lm/golem/internal/assets"
)

func TestGradSyncLocal(t *testing.T) {
	g := NewGradSync(Local{}, 0)
	if b := g.Buckets(124_439_808); len(b) != 19 || b[0] != [2]int{0, 6_553_600} || b[18][1] != 124_439_808 {
		t.Fatalf("GPT-2 124M in 25 MB buckets: %d buckets, first %v, last %v", len(b), b[0], b[len(b)-1])
	}
	x := []float32{1, 2, 3}
	if err := g.Mean(x); err != nil || x[2] != 3 {
		t.Fatalf("one rank: %v %v", x, err)
	}
	if err := (Local{}).Broadcast(nil, 1); err == nil {
		t.Fatal("broadcast from rank 1 of 1 accepted")
	}
}

// needMPI skips where OpenMPI is not installed, except in CI (make test installs
// it first), where that is a failure.
func needMPI(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("starts mpirun")
	}
	if _, err := exec.LookPath("mpirun"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("mpirun not found: scripts/system-deps.sh installs OpenMPI")
		}
		t.Skip("mpirun not found (make deps installs OpenMPI)")
	}
}

func mpiEnv() []string {
	return append(os.Environ(), "OMPI_ALLOW_RUN_AS_ROOT=1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1")
}

// TestMPIRanks builds this package's tests with the build tag mpi and runs
// TestUnderMPI in 3 ranks under mpirun.
func TestMPIRanks(t *testing.T) {
	needMPI(t)
	bin := filepath.Join(t.TempDir(), "dist.test")
	if out, err := exec.Command("go", "test", "-c", "-tags", "mpi", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go test -c -tags mpi: %v\n%s", err, out)
	}
	cmd := exec.Command("mpirun", "-np", "3", "--oversubscribe", "--bind-to", "none", bin, "-test.run", "^TestUnderMPI$", "-test.v")
	cmd.Env = mpiEnv()
	out, err := cmd.CombinedOutput()
	if err != nil || strings.Count(string(out), "--- PASS: TestUnderMPI") != 3 {
		t.Fatalf("3 ranks: %v\n%s", err, out)
	}
}

var (
	golemOnce sync.Once
	golemBin  string
	golemErr  error
)

// mpiGolem builds the golem binary with the build tag mpi.
func mpiGolem(t *testing.T) string {
	golemOnce.Do(func() {
		dir, err := os.MkdirTemp("", "golem-mpi-")
		if err != nil {
			golemErr = err
			return
		}
		golemBin = filepath.Join(dir, "golem")
		if out, err := exec.Command("go", "build", "-tags", "mpi", "-o", golemBin, "github.com/golem-lm/golem/cmd/golem").CombinedOutput(); err != nil {
			golemErr = err
			t.Logf("%s", out)
		}
	})
	if golemErr != nil {
		t.Fatal(golemErr)
	}
	return golemBin
}

type recorder struct {
	mu   sync.Mutex
	ids  map[string]int
	last map[string]display.Bundle
}

func (r *recorder) Display(data display.Bundle, _ map[string]any, id string, update bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.ids[id]++
	r.last[id] = data
}
func (r *recorder) ClearOutput(bool) {}

// TestLaunchFollows starts a 2-rank golem train with Launch, as a notebook cell
// does, follows it with Wait (live updates through the installed publisher) and
// gets the run's result; a failing job's error carries its message; Stop ends a
// job.
func TestLaunchFollows(t *testing.T) {
	needMPI(t)
	bin := mpiGolem(t)
	opticks, err := assets.Opticks()
	if err != nil {
		t.Fatal(err)
	}
	rec := &recorder{ids: map[string]int{}, last: map[string]display.Bundle{}}
	old := display.SetPublisher(rec)
	defer display.SetPublisher(old)
	out := filepath.Join(t.TempDir(), "run")
	small := []string{"--text", opticks, "--layers", "1", "--heads", "2", "--width", "16", "--context", "16", "--batch", "4", "--eval-batches", "1"}
	job, err := Launch(LaunchOptions{Ranks: 2, Golem: bin, Train: append(small, "--steps", "30", "--eval-every", "10", "--out", out)})
	if err != nil {
		t.Fatal(err)
	}
	res, err := job.Wait()
	if err != nil {
		t.Fatalf("%v\n%s", err, job.Output())
	}
	if res.Steps != 30 || len(res.History) != 30 || len(res.Evals) != 3 || res.Checkpoint != filepath.Join(out, "step_00000030") ||
		!strings.Contains(res.StopReason, "MaxSteps=30") || res.History[29].Tokens != 30*2*4*16 {
		t.Fatalf("result %+v", res)
	}
	if _, err := os.Stat(res.Checkpoint); err != nil {
		t.Fatal(err)
	}
	// Two displays (the status line and the chart), each left showing the end;
	// how many updates came between depends on the machine's speed.
	final := 0
	for id, b := range rec.last {
		if h, _ := b["text/html"].(string); strings.Contains(h, "2 ranks: step 30") && strings.Contains(h, "MaxSteps=30") {
			final++
		} else if p, _ := b["text/plain"].(string); b["application/vnd.vegalite.v5+json"] == nil || !strings.HasPrefix(p, "30 steps") {
			t.Errorf("display %s ends with %v", id, b)
		}
	}
	if len(rec.ids) != 2 || final != 1 {
		t.Fatalf("display: %v", rec.ids)
	}
	if b := job.DisplayBundle(); !strings.Contains(b["text/plain"].(string), "2 ranks: step 30") {
		t.Fatalf("bundle %v", b["text/plain"])
	}

	// A bad flag fails the job; the error says why.
	job, err = Launch(LaunchOptions{Ranks: 2, Golem: bin, Quiet: true, Train: append(small, "--layers", "0")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := job.Wait(); err == nil || !strings.Contains(err.Error(), "Layers 0") {
		t.Fatalf("bad flag: %v", err)
	}
	// Stop ends a long job.
	job, err = Launch(LaunchOptions{Ranks: 2, Golem: bin, Quiet: true, Train: append(small, "--steps", "1000000")})
	if err != nil {
		t.Fatal(err)
	}
	for len(job.Result().History) == 0 {
		select {
		case <-job.Done():
			t.Fatalf("ended early: %s", job.Output())
		case <-time.After(50 * time.Millisecond):
		}
	}
	job.Stop()
	select {
	case <-job.Done():
	case <-time.After(30 * time.Second):
		t.Fatal("Stop did not end the job")
	}
	if _, err := job.Wait(); err == nil {
		t.Fatal("a stopped job reports no error")
	}
	if _, err := Launch(LaunchOptions{Ranks: 0}); err == nil || !strings.Contains(err.Error(), "Ranks is 0") {
		t.Fatalf("Ranks 0: %v", err)
	}
	if _, err := Launch(LaunchOptions{Ranks: 2, Golem: bin, Train: []string{"--progress", "x"}}); err == nil {
		t.Fatal("--progress accepted")
	}
}

// TestNCCLEmulated checks the NCCL binding (build tag cuda) without a GPU: the
// package's tests built with -tags "cuda mpi" run TestNCCLUnderMPI in 2 ranks
// against testdata/fakenccl.c, a libnccl stand-in on host memory and MPI.
func TestNCCLEmulated(t *testing.T) {
	needMPI(t)
	dir := t.TempDir()
	lib := filepath.Join(dir, "libfakenccl.so")
	flags, err := exec.Command("pkg-config", "--cflags", "--libs", "ompi-c").Output()
	if err != nil {
		t.Fatalf("pkg-config ompi-c: %v", err)
	}
	args := append([]string{"-shared", "-fPIC", "-o", lib, "testdata/fakenccl.c"}, strings.Fields(string(flags))...)
	if out, err := exec.Command("gcc", args...).CombinedOutput(); err != nil {
		t.Fatalf("gcc: %v\n%s", err, out)
	}
	bin := filepath.Join(dir, "dist-cuda.test")
	if out, err := exec.Command("go", "test", "-c", "-tags", "cuda mpi", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go test -c -tags 'cuda mpi': %v\n%s", err, out)
	}
	cmd := exec.Command("mpirun", "-np", "2", "--oversubscribe", "--bind-to", "none", "-x", "GOLEM_NCCL="+lib,
		bin, "-test.run", "^TestNCCLUnderMPI$", "-test.v")
	cmd.Env = mpiEnv()
	out, err := cmd.CombinedOutput()
	if err != nil || strings.Count(string(out), "--- PASS: TestNCCLUnderMPI") != 2 {
		t.Fatalf("2 ranks: %v\n%s", err, out)
	}
}
