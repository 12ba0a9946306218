package sandbox

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestMain doubles as the program run inside the sandbox (GOLEM_SANDBOX_PROBE says
// what to try).
func TestMain(m *testing.M) {
	if probe := os.Getenv("GOLEM_SANDBOX_PROBE"); probe != "" {
		if err := runProbe(probe); err != nil {
			fmt.Println("probe error:", err)
			os.Exit(3)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// runProbe is an attacker inside the sandbox: it prints what it could do as
// "key=value" lines.
func runProbe(what string) error {
	switch what {
	case "exit":
		return nil
	case "view":
		ents, _ := os.ReadDir("/proc")
		n := 0
		for _, e := range ents {
			if _, err := strconv.Atoi(e.Name()); err == nil {
				n++
			}
		}
		fmt.Printf("procs=%d\n", n)
		fmt.Printf("uid=%d\n", os.Getuid())
		fmt.Printf("ppid=%d\n", os.Getppid())
		host, _ := strconv.Atoi(os.Getenv("HOST_PID"))
		fmt.Printf("kill_host=%v\n", syscall.Kill(host, 0))
		environ, err := os.ReadFile("/proc/1/environ")
		fmt.Printf("init_environ=%q err=%v\n", environ, err)
		fmt.Printf("env=%q\n", os.Environ())
		_, err = os.ReadFile(os.Getenv("HOST_FILE"))
		fmt.Printf("read_host_file=%v\n", err)
		fmt.Printf("write_usr=%v\n", os.WriteFile("/usr/golem-x", []byte("x"), 0o644))
		fmt.Printf("write_tmp=%v\n", os.WriteFile("/tmp/x", []byte("x"), 0o644))
		_, err = net.DialTimeout("tcp", os.Getenv("HOST_ADDR"), time.Second)
		fmt.Printf("dial_host=%v\n", err != nil)
		_, err = net.DialTimeout("tcp", "10.0.0.1:80", time.Second)
		fmt.Printf("dial_out=%v\n", err != nil)
		_, _, e := syscall.RawSyscall(syscall.SYS_PTRACE, syscall.PTRACE_TRACEME, 0, 0)
		fmt.Printf("ptrace=%v\n", e)
		_, _, e = syscall.RawSyscall(syscall.SYS_UNSHARE, syscall.CLONE_NEWUSER, 0, 0)
		fmt.Printf("unshare=%v\n", e)
		_, _, e = syscall.RawSyscall(syscall.SYS_MOUNT, 0, 0, 0)
		fmt.Printf("mount=%v\n", e)
		return nil
	case "alloc":
		var keep [][]byte
		for i := 0; i < 64; i++ { // up to 1 GiB in 16 MiB steps, touched
			b := make([]byte, 16<<20)
			for j := range b {
				b[j] = 1
			}
			keep = append(keep, b)
			fmt.Printf("allocated=%d\n", (i+1)*16)
		}
		return nil
	case "childalloc":
		// A child process (not the worker itself) allocates: the limit holds for it too.
		cmd := exec.Command(os.Args[0])
		cmd.Env = append(os.Environ(), "GOLEM_SANDBOX_PROBE=alloc")
		cmd.Stdout = os.Stdout
		err := cmd.Run()
		fmt.Printf("child=%v\n", err)
		return nil
	case "fork":
		n := 0
		var cmds []*exec.Cmd
		for n < 1000 {
			c := exec.Command("/bin/sleep", "100")
			if err := c.Start(); err != nil {
				fmt.Printf("fork_error=%v\n", err)
				break
			}
			cmds = append(cmds, c)
			n++
		}
		fmt.Printf("forked=%d\n", n)
		return nil
	case "escape":
		// A new session and process group, detached: it must still die with the sandbox.
		c := exec.Command("/bin/sleep", "31337")
		c.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
		if err := c.Start(); err != nil {
			return err
		}
		fmt.Printf("started=%d\n", c.Process.Pid)
		return nil
	}
	return fmt.Errorf("unknown probe %q", what)
}

func newSandbox(t *testing.T, cfg Config) *Sandbox {
	t.Helper()
	if _, err := exec.LookPath("bwrap"); err != nil {
		t.Fatalf("bubblewrap is not installed (scripts/system-deps.sh installs it): %v", err)
	}
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Log(s.Describe())
	return s
}

// run starts the test binary in the sandbox with a probe and returns its output.
func run(t *testing.T, s *Sandbox, probe string, memoryMB int64, env ...string) (string, *Worker, error) {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe)
	cmd.Env = append([]string{"GOLEM_SANDBOX_PROBE=" + probe}, env...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	w, err := s.Wrap(cmd, exe, memoryMB)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.Release)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	w.Started()
	err = cmd.Wait()
	return out.String(), w, err
}

func kv(out, key string) string {
	for _, l := range strings.Split(out, "\n") {
		if v, ok := strings.CutPrefix(l, key+"="); ok {
			return v
		}
	}
	return "<missing " + key + ">"
}

func TestAttackSandboxView(t *testing.T) {
	s := newSandbox(t, Config{})
	secret := filepath.Join(t.TempDir(), "host-secret")
	if err := os.WriteFile(secret, []byte("hunter2"), 0o644); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	t.Setenv("GOLEM_API_KEYS", "do-not-leak-0123456789")
	out, _, err := run(t, s, "view", 256, "HOST_PID="+strconv.Itoa(os.Getpid()), "HOST_FILE="+secret, "HOST_ADDR="+ln.Addr().String())
	if err != nil {
		t.Fatalf("probe: %v\n%s", err, out)
	}
	t.Log(out)
	if strings.Contains(out, "do-not-leak") {
		t.Errorf("the host's environment reached the sandbox:\n%s", out)
	}
	for key, want := range map[string]string{
		"uid":            "65534",
		"ppid":           "1", // the sandbox's own init
		"kill_host":      "no such process",
		"read_host_file": "open " + secret + ": no such file or directory",
		"write_usr":      "open /usr/golem-x: read-only file system",
		"write_tmp":      "<nil>",
		"dial_host":      "true",
		"dial_out":       "true",
		"ptrace":         "operation not permitted",
		"unshare":        "operation not permitted",
		"mount":          "operation not permitted",
	} {
		if got := kv(out, key); got != want {
			t.Errorf("%s = %q, want %q", key, got, want)
		}
	}
	if n, _ := strconv.Atoi(kv(out, "procs")); n < 1 || n > 3 {
		t.Errorf("the sandbox sees %s processes; want only its own (1-3)", kv(out, "procs"))
	}
}

func TestAttackSandboxMemory(t *testing.T) {
	s := newSandbox(t, Config{})
	if !s.Cgroups() {
		t.Fatalf("no cgroups on this machine: %v", s.Warnings())
	}
	for _, probe := range []string{"alloc", "childalloc"} {
		t.Run(probe, func(t *testing.T) {
			out, w, err := run(t, s, probe, 128)
			n := 0
			for _, l := range strings.Split(out, "\n") {
				if v, ok := strings.CutPrefix(l, "allocated="); ok {
					n, _ = strconv.Atoi(v)
				}
			}
			if n >= 128 {
				t.Fatalf("allocated %d MiB under a 128 MiB limit (err %v)", n, err)
			}
			if !w.OOMKilled() {
				t.Fatalf("the kernel did not report an OOM kill (allocated %d MiB, err %v)\n%s", n, err, out)
			}
		})
	}
}

func TestAttackSandboxForkBomb(t *testing.T) {
	s := newSandbox(t, Config{Pids: 64})
	out, _, err := run(t, s, "fork", 256)
	if err != nil {
		t.Fatalf("probe: %v\n%s", err, out)
	}
	n, _ := strconv.Atoi(kv(out, "forked"))
	if n >= 64 || !strings.Contains(kv(out, "fork_error"), "resource temporarily unavailable") {
		t.Fatalf("forked %d processes under pids.max 64:\n%s", n, out)
	}
}

func TestAttackSandboxEscapeBySetsid(t *testing.T) {
	s := newSandbox(t, Config{})
	out, _, err := run(t, s, "escape", 256)
	if err != nil {
		t.Fatalf("probe: %v\n%s", err, out)
	}
	// The probe has exited; its detached child must be gone with the sandbox.
	deadline := time.Now().Add(5 * time.Second)
	for {
		left := findProcesses("31337")
		if len(left) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("detached child outlived its sandbox: pids %v", left)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// findProcesses lists pids whose command line contains arg.
func findProcesses(arg string) []int {
	ents, _ := os.ReadDir("/proc")
	var out []int
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/cmdline")
		if err == nil && bytes.Contains(b, []byte(arg)) && !bytes.Contains(b, []byte("GOLEM_SANDBOX")) {
			out = append(out, pid)
		}
	}
	return out
}

func TestModeNone(t *testing.T) {
	s, err := New(Config{Mode: ModeNone})
	if err != nil {
		t.Fatal(err)
	}
	exe, _ := os.Executable()
	cmd := exec.Command(exe)
	cmd.Env = []string{"GOLEM_SANDBOX_PROBE=view"}
	w, err := s.Wrap(cmd, exe, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Release()
	if cmd.Path != exe || w.SecretsDir() == "" {
		t.Fatalf("mode none changed the command: %v", cmd.Args)
	}
}

func TestBadConfig(t *testing.T) {
	if _, err := New(Config{Mode: "chroot"}); err == nil || !strings.Contains(err.Error(), `sandbox mode "chroot"`) {
		t.Fatalf("bad mode: %v", err)
	}
	_, err := New(Config{Bwrap: "/nonexistent/bwrap"})
	if err == nil || !strings.Contains(err.Error(), "bubblewrap (/nonexistent/bwrap) not found") || !errors.Is(err, err) {
		t.Fatalf("missing bwrap: %v", err)
	}
}

// BenchmarkStart measures starting a process and waiting for it to exit, confined
// and not: the sandbox's share of a cold worker start.
func BenchmarkStart(b *testing.B) {
	exe, err := os.Executable()
	if err != nil {
		b.Fatal(err)
	}
	for _, mode := range []string{ModeBwrap, ModeNone} {
		b.Run(mode, func(b *testing.B) {
			s, err := New(Config{Mode: mode})
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			for i := 0; i < b.N; i++ {
				cmd := exec.Command(exe)
				cmd.Env = []string{"GOLEM_SANDBOX_PROBE=exit"}
				w, err := s.Wrap(cmd, exe, 256)
				if err != nil {
					b.Fatal(err)
				}
				if err := cmd.Start(); err != nil {
					b.Fatal(err)
				}
				w.Started()
				if err := cmd.Wait(); err != nil {
					b.Fatal(err)
				}
				w.Release()
			}
		})
	}
}
