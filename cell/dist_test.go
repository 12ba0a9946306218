package cell

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/golem-lm/golem/display"
	"github.com/golem-lm/golem/internal/assets"
)

// TestNotebookLaunchesMPIRun: notebook cells start a 2-rank data-parallel
// training with lmlib/dist's Launch (mpirun of a golem built with MPI), follow
// it live (display updates through the kernel's publisher) and read its result
// and checkpoint in the next cell.
func TestNotebookLaunchesMPIRun(t *testing.T) {
	if testing.Short() {
		t.Skip("starts mpirun")
	}
	if _, err := exec.LookPath("mpirun"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("mpirun not found: scripts/system-deps.sh installs OpenMPI")
		}
		t.Skip("mpirun not found (make deps installs OpenMPI)")
	}
	bin := filepath.Join(t.TempDir(), "golem")
	if out, err := exec.Command("go", "build", "-tags", "mpi", "-o", bin, "github.com/golem-lm/golem/cmd/golem").CombinedOutput(); err != nil {
		t.Fatalf("go build -tags mpi: %v\n%s", err, out)
	}
	opticks, err := assets.Opticks()
	if err != nil {
		t.Fatal(err)
	}
	pub := &recordingPublisher{}
	old := display.SetPublisher(pub)
	defer display.SetPublisher(old)
	out := filepath.Join(t.TempDir(), "dp")
	s := newTestSession(t)
	got := s.execAll(t, []string{
		`import "github.com/golem-lm/golem/lmlib/dist"`,
		fmt.Sprintf(`job, err := dist.Launch(dist.LaunchOptions{Ranks: 2, Golem: %q,
	Train: []string{"--text", %q, "--layers", "1", "--heads", "2", "--width", "16", "--context", "16",
		"--batch", "4", "--steps", "40", "--eval-every", "10", "--eval-batches", "1", "--out", %q}})
if err != nil { panic(err) }`, bin, opticks, out),
		`res, err := job.Wait()
if err != nil { panic(err) }
fmt.Sprint(res.Steps, " steps, ", len(res.Evals), " evaluations, checkpoint ", res.Checkpoint)`,
	})
	want := fmt.Sprintf("40 steps, 4 evaluations, checkpoint %s", filepath.Join(out, "step_00000040"))
	if !strings.Contains(got, want) {
		t.Fatalf("cell result %q, want %q", got, want)
	}
	pub.mu.Lock()
	n := len(pub.data)
	pub.mu.Unlock()
	if n < 3 {
		t.Fatalf("only %d display messages while following the job", n)
	}
	if got := s.exec(t, "job"); !strings.Contains(got, "2 ranks: step 40") {
		t.Fatalf("job as a cell value: %q", got)
	}
}
