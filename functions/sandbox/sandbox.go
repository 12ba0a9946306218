// Package sandbox confines the processes that run deployed functions, with parts
// that already exist and are well kept: bubblewrap (Debian's `bubblewrap`) for
// namespaces, a read-only view of the system, no network and a seccomp filter, and
// the kernel's cgroups for memory (children included), process count and CPU.
// golem adds only the glue: it chooses the options, makes one cgroup per worker and
// starts bubblewrap inside it.
//
// What each layer stops:
//
//   - PID namespace: a worker sees only its own processes, so it cannot signal the
//     host or read /proc/<host>/environ; when the worker's sandbox ends, the kernel
//     kills every process left in it (a setsid child cannot outlive it).
//   - User namespace and an unprivileged uid (65534 by default; the host drops to
//     it when it runs as root): no capabilities, host files owned by others are
//     as unreadable as they would be to "nobody"; nested user namespaces are
//     disabled.
//   - Mount namespace: / is an empty tmpfs with /usr (and the loader's files under
//     /etc) bound read-only, a size-limited private /tmp, the worker binary, /proc
//     of its own PID namespace and a minimal /dev. The host's data directory, its
//     home and its keys are not there.
//   - Network namespace: only a loopback interface of its own; no route out, and
//     the host's ports are not reachable.
//   - seccomp: ptrace, process_vm_*, mount, unshare/setns, bpf, keyctl, perf,
//     module and kexec calls, io_uring, userfaultfd and a few more fail with EPERM.
//   - cgroups: memory.limit (with swap) covers the worker and its children, pids.max
//     bounds fork bombs, a CPU quota bounds its share of the machine.
//   - Environment: the sandbox starts from an empty environment; only what the host
//     passes on purpose reaches the worker.
//
// Mode "none" runs workers as plain child processes of the host (no confinement):
// for a developer machine without bubblewrap, never for code you do not trust.
package sandbox

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
)

// Modes.
const (
	ModeBwrap = "bwrap" // bubblewrap + cgroups + seccomp (the default)
	ModeNone  = "none"  // plain child processes: no confinement
)

// Config says how workers are confined. Zero fields take the defaults.
type Config struct {
	// Mode is ModeBwrap (default) or ModeNone.
	Mode string
	// Bwrap is the bubblewrap binary; default "bwrap" found in PATH.
	Bwrap string
	// UID and GID are the ids sandboxed processes run as when the host runs as
	// root. Default 65534 (nobody).
	UID, GID int
	// Pids is each worker's pids.max (threads count too). Default 256.
	Pids int
	// CPUs is each worker's CPU quota in cores. Default 1.
	CPUs float64
	// ScratchMB is the size of the worker's writable /tmp (a tmpfs; its pages
	// also count against the memory limit). Default 64.
	ScratchMB int
	// NoCgroups skips cgroups even where they could be used (memory is then only
	// watched by the host). For tests of that fallback.
	NoCgroups bool
}

// workerSeq numbers worker cgroups (several hosts may share a process in tests).
var workerSeq atomic.Int64

// Sandbox starts confined worker processes.
type Sandbox struct {
	cfg      Config
	root     bool // the host runs as root: drop to UID/GID
	cgroups  *cgroups
	seccomp  []byte // BPF program, struct sock_filter[]
	warnings []string

	stageMu  sync.Mutex
	stageDir string            // binaries linked where the unprivileged uid can reach them
	staged   map[string]string // host path -> staged path
}

// New checks that the configured sandbox works on this machine and returns it. An
// unusable sandbox is an error that says what is missing and how to proceed.
func New(cfg Config) (*Sandbox, error) {
	if cfg.Mode == "" {
		cfg.Mode = ModeBwrap
	}
	if cfg.UID == 0 {
		cfg.UID = 65534
	}
	if cfg.GID == 0 {
		cfg.GID = 65534
	}
	if cfg.Pids <= 0 {
		cfg.Pids = 256
	}
	if cfg.CPUs <= 0 {
		cfg.CPUs = 1
	}
	if cfg.ScratchMB <= 0 {
		cfg.ScratchMB = 64
	}
	s := &Sandbox{cfg: cfg, root: os.Geteuid() == 0}
	switch cfg.Mode {
	case ModeNone:
		return s, nil
	case ModeBwrap:
	default:
		return nil, fmt.Errorf("sandbox mode %q: want %q or %q", cfg.Mode, ModeBwrap, ModeNone)
	}
	if s.cfg.Bwrap == "" {
		s.cfg.Bwrap = "bwrap"
	}
	path, err := exec.LookPath(s.cfg.Bwrap)
	if err != nil {
		return nil, fmt.Errorf("sandbox: bubblewrap (%s) not found: install Debian's bubblewrap (scripts/system-deps.sh does), or run with --sandbox none to start functions without confinement (only for code you trust)", s.cfg.Bwrap)
	}
	s.cfg.Bwrap = path
	if s.seccomp, err = seccompProgram(); err != nil {
		return nil, fmt.Errorf("sandbox: seccomp filter: %w", err)
	}
	if !cfg.NoCgroups {
		cg, err := openCgroups(s.root, cfg.UID)
		if err != nil {
			s.warnings = append(s.warnings, "no cgroups ("+err.Error()+"): worker memory is watched by the host, there is no pids or CPU limit")
		} else {
			s.cgroups = cg
		}
	}
	if err := s.probe(); err != nil {
		return nil, err
	}
	return s, nil
}

// probe runs /bin/true in the sandbox, so a machine where bubblewrap cannot make
// its namespaces fails at start with bubblewrap's own message.
func (s *Sandbox) probe() error {
	cmd := exec.Command("/bin/true")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	w, err := s.wrap(cmd, "/bin/true", false, nil, 64)
	if err != nil {
		return fmt.Errorf("sandbox: %w", err)
	}
	defer w.Release()
	err = cmd.Run()
	w.closeHostFiles()
	if err != nil {
		return fmt.Errorf("sandbox: bubblewrap cannot start a sandbox on this machine (%v: %s); user namespaces may be disabled (sysctl user.max_user_namespaces, kernel.apparmor_restrict_unprivileged_userns) or a container's seccomp profile forbids them: see docs/functions.md, or run with --sandbox none (only for code you trust)",
			err, strings.TrimSpace(stderr.String()))
	}
	return nil
}

// Mode is the sandbox mode in use.
func (s *Sandbox) Mode() string { return s.cfg.Mode }

// Warnings are the parts of the sandbox this machine could not give.
func (s *Sandbox) Warnings() []string { return s.warnings }

// Describe says in one line what confines the workers.
func (s *Sandbox) Describe() string {
	if s.cfg.Mode == ModeNone {
		return "none (workers are plain processes of the host's user)"
	}
	parts := []string{"bubblewrap (pid, mount, net, ipc, uts, user namespaces)", "seccomp"}
	if s.root {
		parts = append(parts, fmt.Sprintf("uid %d", s.cfg.UID))
	} else {
		parts = append(parts, fmt.Sprintf("uid %d (the host's)", os.Geteuid()))
	}
	if s.cgroups != nil {
		parts = append(parts, s.cgroups.describe(s.cfg))
	} else {
		parts = append(parts, "no cgroups")
	}
	return strings.Join(parts, ", ")
}

// stage returns a path of the binary at path that the sandbox's uid can reach: a
// hard link (or a copy, across file systems) in a directory of the sandbox's own,
// made once per binary.
func (s *Sandbox) stage(path string) (string, error) {
	s.stageMu.Lock()
	defer s.stageMu.Unlock()
	if p, ok := s.staged[path]; ok {
		return p, nil
	}
	if s.stageDir == "" {
		d, err := os.MkdirTemp("", "golem-sandbox-")
		if err != nil {
			return "", fmt.Errorf("sandbox staging directory: %w", err)
		}
		if err := os.Chmod(d, 0o755); err != nil {
			return "", err
		}
		s.stageDir = d
		s.staged = map[string]string{}
	}
	dst := filepath.Join(s.stageDir, fmt.Sprintf("%d-%s", len(s.staged), filepath.Base(path)))
	if err := os.Link(path, dst); err != nil {
		if err := copyFile(path, dst); err != nil {
			return "", fmt.Errorf("stage %s for the sandbox: %w", path, err)
		}
	}
	s.staged[path] = dst
	return dst, nil
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o755)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// Close removes what the sandbox made on the host (its staging directory).
func (s *Sandbox) Close() {
	s.stageMu.Lock()
	defer s.stageMu.Unlock()
	if s.stageDir != "" {
		os.RemoveAll(s.stageDir)
		s.stageDir, s.staged = "", nil
	}
}

// Cgroups reports whether workers get cgroup limits (memory, pids, CPU).
func (s *Sandbox) Cgroups() bool { return s.cgroups != nil }

// Worker is one started (or about to be started) confined process.
type Worker struct {
	s         *Sandbox
	cell      *cell       // nil without cgroups
	hostFiles []*os.File  // to close in the host once the process started
	secrets   string      // the secrets directory the worker sees
	released  atomic.Bool //
}

// SecretsDir is where the worker finds its secrets (GOLEM_SECRETS_DIR).
func (w *Worker) SecretsDir() string { return w.secrets }

// Wrap rewrites cmd, which runs the worker binary exe with cmd.Args[1:], so that
// it starts inside the sandbox with memoryMB of memory. Call it after setting the
// command's own ExtraFiles (they keep their numbers: 3, 4, ...); cmd.Env is what
// the worker gets, and nothing else of the host's environment. After cmd.Start,
// call Started; after the process ended, Release.
func (s *Sandbox) Wrap(cmd *exec.Cmd, exe string, memoryMB int64) (*Worker, error) {
	return s.wrap(cmd, exe, true, cmd.Args[1:], memoryMB)
}

const (
	sandboxExe = "/run/golem/worker"  // where the worker binary appears inside
	secretsDir = "/run/golem/secrets" // the worker's secrets, a private tmpfs
	// trampoline writes its own pid into each cgroup.procs file named before "--"
	// and executes the command after it.
	trampoline = `while [ "$1" != "--" ]; do echo $$ > "$1" || exit 125; shift; done; shift; exec "$@"`
)

// wrap confines cmd. With bind, exe (a file of the host) is bound read-only into
// the sandbox and run there; otherwise exe is a path inside the sandbox (/bin/true).
func (s *Sandbox) wrap(cmd *exec.Cmd, exe string, bind bool, args []string, memoryMB int64) (*Worker, error) {
	w := &Worker{s: s}
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Pdeathsig = syscall.SIGKILL
	if s.cfg.Mode == ModeNone {
		dir, err := os.MkdirTemp("", "golem-secrets-")
		if err != nil {
			return nil, fmt.Errorf("secrets directory: %w", err)
		}
		w.secrets = dir
		// Not a sandbox, but the host's environment (its keys) still stays home.
		cmd.Env = append([]string{"PATH=/usr/bin:/bin", "HOME=" + os.TempDir(), "TMPDIR=" + os.TempDir(), "GOLEM_SECRETS_DIR=" + dir}, cmd.Env...)
		return w, nil
	}
	w.secrets = secretsDir
	sr, sw, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	w.hostFiles = append(w.hostFiles, sr)
	_, err = sw.Write(s.seccomp) // a few KiB: fits the pipe
	sw.Close()
	if err != nil {
		w.closeHostFiles()
		return nil, fmt.Errorf("seccomp filter: %w", err)
	}
	seccompFD := 3 + len(cmd.ExtraFiles)
	cmd.ExtraFiles = append(cmd.ExtraFiles, sr)
	inner := exe
	var bindArgs []string
	if bind {
		staged, err := s.stage(exe)
		if err != nil {
			w.closeHostFiles()
			return nil, err
		}
		bindArgs = []string{"--ro-bind", staged, sandboxExe}
		inner = sandboxExe
	}

	var procs []string
	if s.cgroups != nil {
		c, err := s.cgroups.create(fmt.Sprintf("golem-w%d-%d", os.Getpid(), workerSeq.Add(1)), memoryMB, s.cfg)
		if err != nil {
			w.closeHostFiles()
			return nil, err
		}
		w.cell = c
		procs = c.procsFiles()
		if s.cgroups.v2 {
			dir, err := os.Open(c.mem)
			if err != nil {
				w.closeHostFiles()
				c.remove()
				return nil, fmt.Errorf("open cgroup %s: %w", c.mem, err)
			}
			w.hostFiles = append(w.hostFiles, dir)
			cmd.SysProcAttr.UseCgroupFD = true
			cmd.SysProcAttr.CgroupFD = int(dir.Fd())
		}
	}

	b := []string{s.cfg.Bwrap,
		"--unshare-all", "--unshare-user", "--disable-userns",
		"--die-with-parent", "--new-session", "--hostname", "golem-worker",
		"--ro-bind", "/usr", "/usr",
		"--symlink", "usr/lib", "/lib", "--symlink", "usr/lib64", "/lib64",
		"--symlink", "usr/bin", "/bin", "--symlink", "usr/sbin", "/sbin",
		// The dynamic loader's cache, and the alternatives links through which
		// Debian finds libopenblas.
		"--ro-bind-try", "/etc/ld.so.cache", "/etc/ld.so.cache",
		"--ro-bind-try", "/etc/alternatives", "/etc/alternatives",
		"--proc", "/proc", "--dev", "/dev",
		"--size", strconv.Itoa(s.cfg.ScratchMB << 20), "--tmpfs", "/tmp",
		"--perms", "0700", "--size", strconv.Itoa(1 << 20), "--tmpfs", secretsDir,
	}
	b = append(b, bindArgs...)
	b = append(b,
		"--chdir", "/tmp",
		"--seccomp", strconv.Itoa(seccompFD),
		"--clearenv",
		"--setenv", "PATH", "/usr/bin:/bin",
		"--setenv", "HOME", "/tmp",
		"--setenv", "TMPDIR", "/tmp",
		"--setenv", "GOLEM_SECRETS_DIR", secretsDir,
		"--setenv", "GOLEM_SANDBOX", ModeBwrap,
	)
	if s.cgroups != nil && s.cgroups.cpu {
		b = append(b, "--setenv", "GOMAXPROCS", strconv.Itoa(max(1, int(s.cfg.CPUs+0.5))))
	}
	for _, kv := range cmd.Env {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			continue
		}
		b = append(b, "--setenv", k, v)
	}
	b = append(b, "--", inner)
	b = append(b, args...)

	// The trampoline, a few lines of /bin/sh run as the unprivileged uid, enters
	// the cgroups (v1) and then becomes bubblewrap: everything bubblewrap starts
	// is inside them. (v2 needs none: the process is cloned into its cgroup.)
	tramp := []string{"/bin/sh", "-c", trampoline, "golem-sandbox"}
	tramp = append(tramp, procs...)
	tramp = append(tramp, "--")
	tramp = append(tramp, b...)
	cmd.Path = tramp[0]
	cmd.Args = tramp
	cmd.Env = []string{"PATH=/usr/bin:/bin"}
	if s.root {
		cmd.SysProcAttr.Credential = &syscall.Credential{Uid: uint32(s.cfg.UID), Gid: uint32(s.cfg.GID), Groups: []uint32{}}
	}
	return w, nil
}

// Started closes the host's copies of the descriptors the sandbox needed.
func (w *Worker) Started() { w.closeHostFiles() }

func (w *Worker) closeHostFiles() {
	for _, f := range w.hostFiles {
		f.Close()
	}
	w.hostFiles = nil
}

// SetMemory changes the worker's memory limit (cgroup), e.g. when it is bound to
// a function. Without cgroups it does nothing and returns false.
func (w *Worker) SetMemory(memoryMB int64) (bool, error) {
	if w.cell == nil {
		return false, nil
	}
	return true, w.cell.setMemory(memoryMB)
}

// OOMKilled reports whether the kernel killed a process of this worker for going
// over its memory limit.
func (w *Worker) OOMKilled() bool {
	return w.cell != nil && w.cell.oomKilled()
}

// MemoryLimited reports whether the kernel enforces the worker's memory limit.
func (w *Worker) MemoryLimited() bool { return w.cell != nil && w.cell.hasMemory() }

// Kill kills every process of the worker's cgroup (a no-op without cgroups; the
// caller kills the process it started, and the PID namespace takes the rest).
func (w *Worker) Kill() {
	if w.cell != nil {
		w.cell.killAll()
	}
}

// Release frees what the worker held (its cgroups, its secrets directory). Call
// it once the process has exited.
func (w *Worker) Release() {
	if w.released.Swap(true) {
		return
	}
	w.closeHostFiles()
	if w.cell != nil {
		w.cell.remove()
	}
	if w.s.cfg.Mode == ModeNone && w.secrets != "" {
		os.RemoveAll(w.secrets)
	}
}
