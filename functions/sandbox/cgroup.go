package sandbox

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// cgroups makes one cgroup per worker under the host's own cgroup, on the machine's
// cgroup v1 hierarchies (memory, pids, cpu mounted separately, as on this project's
// CI machines) or on the unified v2 hierarchy (most Kubernetes nodes today).
//
// v1: the trampoline, started as the unprivileged uid, writes its own pid into the
// worker's cgroup.procs files (the host chowns those files, and only those, to that
// uid), then executes bubblewrap: everything the worker starts is inside.
// v2: the host starts the trampoline directly in the cgroup (clone3's
// CLONE_INTO_CGROUP, Go's SysProcAttr.UseCgroupFD).
type cgroups struct {
	v2    bool
	root  bool
	uid   int
	mem   string // parent directory for worker cgroups of the memory controller (v1), or the v2 parent
	pids  string // v1 pids parent ("" without)
	cpuD  string // v1 cpu parent ("" without)
	cpu   bool   // a CPU quota is available
	pidsC bool   // a pids limit is available
}

func (c *cgroups) describe(cfg Config) string {
	ver := "v1"
	if c.v2 {
		ver = "v2"
	}
	var parts []string
	parts = append(parts, "memory")
	if c.pidsC {
		parts = append(parts, fmt.Sprintf("pids %d", cfg.Pids))
	}
	if c.cpu {
		parts = append(parts, fmt.Sprintf("cpu %.3g", cfg.CPUs))
	}
	return "cgroup " + ver + " (" + strings.Join(parts, ", ") + ")"
}

// selfCgroups reads /proc/self/cgroup: controller (or "" for v2) -> path.
func selfCgroups() (map[string]string, error) {
	b, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		f := strings.SplitN(line, ":", 3)
		if len(f) != 3 {
			continue
		}
		if f[1] == "" {
			out[""] = f[2]
			continue
		}
		for _, ctl := range strings.Split(f[1], ",") {
			out[ctl] = f[2]
		}
	}
	return out, nil
}

type cgroupMount struct {
	root, point string
	v2          bool
	controllers []string
}

// cgroupMounts reads the cgroup mounts from /proc/self/mountinfo.
func cgroupMounts() ([]cgroupMount, error) {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []cgroupMount
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		// id parent major:minor root mountpoint options [optional...] - fstype source superoptions
		fields := strings.Fields(sc.Text())
		sep := -1
		for i, x := range fields {
			if x == "-" {
				sep = i
				break
			}
		}
		if sep < 5 || sep+3 > len(fields) {
			continue
		}
		fstype := fields[sep+1]
		m := cgroupMount{root: fields[3], point: fields[4]}
		switch fstype {
		case "cgroup2":
			m.v2 = true
		case "cgroup":
			for _, o := range strings.Split(fields[sep+3], ",") {
				m.controllers = append(m.controllers, o)
			}
		default:
			continue
		}
		out = append(out, m)
	}
	return out, sc.Err()
}

// dirOf maps a cgroup path to its directory under mount m.
func (m cgroupMount) dirOf(path string) string {
	rel := path
	if m.root != "/" {
		if r, ok := strings.CutPrefix(path, m.root); ok {
			rel = r
		}
	}
	return filepath.Join(m.point, rel)
}

func has(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// openCgroups finds where this host may create worker cgroups.
func openCgroups(root bool, uid int) (*cgroups, error) {
	self, err := selfCgroups()
	if err != nil {
		return nil, fmt.Errorf("read /proc/self/cgroup: %w", err)
	}
	mounts, err := cgroupMounts()
	if err != nil {
		return nil, fmt.Errorf("read /proc/self/mountinfo: %w", err)
	}
	c := &cgroups{root: root, uid: uid}
	v1 := func(ctl string) string {
		p, ok := self[ctl]
		if !ok {
			return ""
		}
		for _, m := range mounts {
			if !m.v2 && has(m.controllers, ctl) {
				return m.dirOf(p)
			}
		}
		return ""
	}
	if dir := v1("memory"); dir != "" {
		if err := probeDir(dir); err != nil {
			return nil, fmt.Errorf("memory cgroup %s is not writable: %v", dir, err)
		}
		c.mem = dir
		if d := v1("pids"); d != "" && probeDir(d) == nil {
			c.pids, c.pidsC = d, true
		}
		if d := v1("cpu"); d != "" && probeDir(d) == nil {
			if _, err := os.Stat(filepath.Join(d, "cpu.cfs_quota_us")); err == nil {
				c.cpuD, c.cpu = d, true
			}
		}
		cleanStale(c.mem, c.pids, c.cpuD)
		return c, nil
	}
	p, ok := self[""]
	if !ok {
		return nil, errors.New("no memory cgroup (neither a v1 memory hierarchy nor cgroup v2)")
	}
	for _, m := range mounts {
		if !m.v2 {
			continue
		}
		dir := m.dirOf(p)
		ctls, err := os.ReadFile(filepath.Join(dir, "cgroup.controllers"))
		if err != nil || !has(strings.Fields(string(ctls)), "memory") {
			continue
		}
		if err := enableV2(dir); err != nil {
			return nil, err
		}
		c.v2, c.mem = true, dir
		sub, _ := os.ReadFile(filepath.Join(dir, "cgroup.subtree_control"))
		c.pidsC = has(strings.Fields(string(sub)), "pids")
		c.cpu = has(strings.Fields(string(sub)), "cpu")
		cleanStale(c.mem)
		return c, nil
	}
	return nil, errors.New("no writable memory cgroup: the v1 memory hierarchy is not mounted and cgroup v2 has no memory controller here")
}

// enableV2 enables the memory, pids and cpu controllers for children of dir. cgroup
// v2 forbids that while dir itself holds processes (unless it is the root), so the
// host first moves itself into a leaf dir/golem-host.
func enableV2(dir string) error {
	sub := filepath.Join(dir, "cgroup.subtree_control")
	write := func() error {
		var last error
		for _, ctl := range []string{"+memory", "+pids", "+cpu"} {
			if err := os.WriteFile(sub, []byte(ctl), 0); err != nil && ctl == "+memory" {
				last = err
			}
		}
		return last
	}
	if err := write(); err == nil {
		return nil
	}
	leaf := filepath.Join(dir, "golem-host")
	if err := os.MkdirAll(leaf, 0o755); err != nil {
		return fmt.Errorf("cgroup v2 %s: cannot create a leaf for the host: %v", dir, err)
	}
	if err := os.WriteFile(filepath.Join(leaf, "cgroup.procs"), []byte(strconv.Itoa(os.Getpid())), 0); err != nil {
		return fmt.Errorf("cgroup v2 %s: cannot move the host into %s: %v", dir, leaf, err)
	}
	if err := write(); err != nil {
		return fmt.Errorf("cgroup v2 %s: cannot enable the memory controller for workers (other processes share the host's cgroup?): %v", dir, err)
	}
	return nil
}

// probeDir checks that a child cgroup can be made in dir.
func probeDir(dir string) error {
	p := filepath.Join(dir, fmt.Sprintf("golem-probe-%d", os.Getpid()))
	if err := os.Mkdir(p, 0o755); err != nil && !os.IsExist(err) {
		return err
	}
	return os.Remove(p)
}

// cleanStale removes worker cgroups of hosts that are gone (a host killed with
// SIGKILL cannot remove its own); a cgroup with processes in it stays.
func cleanStale(dirs ...string) {
	for _, d := range dirs {
		if d == "" {
			continue
		}
		old, _ := filepath.Glob(filepath.Join(d, "golem-w*"))
		for _, o := range old {
			name := filepath.Base(o)
			pid, _, _ := strings.Cut(strings.TrimPrefix(name, "golem-w"), "-")
			if n, err := strconv.Atoi(pid); err == nil && n != os.Getpid() && syscall.Kill(n, 0) != nil {
				_ = os.Remove(o)
			}
		}
	}
}

// cell is the cgroup (one directory per v1 controller, or one v2 directory) of one
// worker.
type cell struct {
	c    *cgroups
	mem  string
	pids string
	cpu  string
}

func (c *cgroups) create(name string, memoryMB int64, cfg Config) (*cell, error) {
	cl := &cell{c: c}
	mk := func(parent string) (string, error) {
		if parent == "" {
			return "", nil
		}
		d := filepath.Join(parent, name)
		if err := os.Mkdir(d, 0o755); err != nil {
			return "", fmt.Errorf("create cgroup %s: %w", d, err)
		}
		return d, nil
	}
	var err error
	if cl.mem, err = mk(c.mem); err != nil {
		return nil, err
	}
	if !c.v2 {
		if cl.pids, err = mk(c.pids); err != nil {
			cl.remove()
			return nil, err
		}
		if cl.cpu, err = mk(c.cpuD); err != nil {
			cl.remove()
			return nil, err
		}
	}
	fail := func(err error) (*cell, error) {
		cl.remove()
		return nil, err
	}
	if err := cl.setMemory(memoryMB); err != nil {
		return fail(err)
	}
	if c.v2 {
		if c.pidsC {
			if err := writeFile(cl.mem, "pids.max", strconv.Itoa(cfg.Pids)); err != nil {
				return fail(err)
			}
		}
		if c.cpu {
			if err := writeFile(cl.mem, "cpu.max", fmt.Sprintf("%d 100000", int(cfg.CPUs*100000))); err != nil {
				return fail(err)
			}
		}
		return cl, nil
	}
	if cl.pids != "" {
		if err := writeFile(cl.pids, "pids.max", strconv.Itoa(cfg.Pids)); err != nil {
			return fail(err)
		}
	}
	if cl.cpu != "" {
		if err := writeFile(cl.cpu, "cpu.cfs_period_us", "100000"); err != nil {
			return fail(err)
		}
		if err := writeFile(cl.cpu, "cpu.cfs_quota_us", strconv.Itoa(int(cfg.CPUs*100000))); err != nil {
			return fail(err)
		}
	}
	if c.root {
		// The trampoline runs as the unprivileged uid and enters the cgroups itself:
		// it may write cgroup.procs, and nothing else.
		for _, f := range cl.procsFiles() {
			if err := os.Chown(f, c.uid, -1); err != nil {
				return fail(fmt.Errorf("cgroup %s: %w", f, err))
			}
		}
	}
	return cl, nil
}

// procsFiles are the cgroup.procs files the v1 trampoline writes (none for v2).
func (cl *cell) procsFiles() []string {
	if cl.c.v2 {
		return nil
	}
	var out []string
	for _, d := range []string{cl.mem, cl.pids, cl.cpu} {
		if d != "" {
			out = append(out, filepath.Join(d, "cgroup.procs"))
		}
	}
	return out
}

func (cl *cell) hasMemory() bool { return cl.mem != "" }

func writeFile(dir, name, value string) error {
	if err := os.WriteFile(filepath.Join(dir, name), []byte(value), 0); err != nil {
		return fmt.Errorf("cgroup %s: %w", filepath.Join(dir, name), err)
	}
	return nil
}

// setMemory sets the memory limit and forbids swap.
func (cl *cell) setMemory(memoryMB int64) error {
	if memoryMB <= 0 {
		return nil
	}
	v := strconv.FormatInt(memoryMB<<20, 10)
	if cl.c.v2 {
		if err := writeFile(cl.mem, "memory.max", v); err != nil {
			return err
		}
		_ = writeFile(cl.mem, "memory.swap.max", "0")
		return nil
	}
	// memory+swap must stay >= memory: raise it first, lower it last.
	memsw := filepath.Join(cl.mem, "memory.memsw.limit_in_bytes")
	_, swErr := os.Stat(memsw)
	if swErr == nil {
		_ = writeFile(cl.mem, "memory.memsw.limit_in_bytes", v) // fails when lowering below memory: retried below
	}
	if err := writeFile(cl.mem, "memory.limit_in_bytes", v); err != nil {
		return err
	}
	if swErr == nil {
		return writeFile(cl.mem, "memory.memsw.limit_in_bytes", v)
	}
	return nil
}

// oomKilled reports whether the kernel's OOM killer acted in this cgroup.
func (cl *cell) oomKilled() bool {
	name := "memory.oom_control"
	if cl.c.v2 {
		name = "memory.events"
	}
	b, err := os.ReadFile(filepath.Join(cl.mem, name))
	if err != nil {
		return false
	}
	for _, line := range strings.Split(string(b), "\n") {
		if n, ok := strings.CutPrefix(line, "oom_kill "); ok {
			v, _ := strconv.Atoi(strings.TrimSpace(n))
			return v > 0
		}
	}
	return false
}

// killAll sends SIGKILL to every process in the cell, without waiting for them
// to die (remove waits).
func (cl *cell) killAll() {
	if cl.c.v2 {
		if writeFile(cl.mem, "cgroup.kill", "1") == nil {
			return
		}
	}
	b, err := os.ReadFile(filepath.Join(cl.mem, "cgroup.procs"))
	if err != nil {
		return
	}
	for _, f := range strings.Fields(string(b)) {
		if pid, err := strconv.Atoi(f); err == nil {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	}
}

// remove deletes the cell's directories once their processes are gone (the PID
// namespace's teardown may take a moment).
func (cl *cell) remove() {
	dirs := []string{cl.cpu, cl.pids, cl.mem}
	for i := 0; i < 100; i++ {
		left := dirs[:0]
		for _, d := range dirs {
			if d == "" {
				continue
			}
			if err := os.Remove(d); err != nil && !os.IsNotExist(err) {
				left = append(left, d)
			}
		}
		if len(left) == 0 {
			return
		}
		dirs = left
		cl.killAll() // a straggler forked while the others were killed
		time.Sleep(10 * time.Millisecond)
	}
}
