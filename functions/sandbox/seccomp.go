package sandbox

import (
	"encoding/binary"

	seccomp "github.com/elastic/go-seccomp-bpf"
	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"
)

// denied are the system calls a worker has no business making; they fail with
// EPERM. The list follows the usual container profiles (Docker's default, for
// one): debugging and reading other processes, kernel modules and kexec, mounts
// and namespaces, keyrings, BPF and perf, io_uring, userfaultfd, clock and
// accounting changes. The Go runtime needs none of them.
var denied = []string{
	"ptrace", "process_vm_readv", "process_vm_writev", "kcmp", "pidfd_getfd",
	"init_module", "finit_module", "delete_module", "kexec_load", "kexec_file_load",
	"mount", "umount2", "pivot_root", "chroot", "unshare", "setns", "open_tree", "move_mount",
	"fsopen", "fsconfig", "fsmount", "fspick", "mount_setattr",
	"keyctl", "add_key", "request_key",
	"bpf", "perf_event_open", "userfaultfd", "fanotify_init",
	"io_uring_setup", "io_uring_enter", "io_uring_register",
	"open_by_handle_at", "name_to_handle_at",
	"acct", "quotactl", "swapon", "swapoff", "reboot", "syslog", "vhangup",
	"settimeofday", "clock_settime", "clock_adjtime", "adjtimex",
	"iopl", "ioperm", "lookup_dcookie", "personality",
}

// seccompProgram assembles the filter for bubblewrap's --seccomp: the raw
// struct sock_filter array in the machine's byte order.
func seccompProgram() ([]byte, error) {
	p := seccomp.Policy{
		DefaultAction: seccomp.ActionAllow,
		Syscalls: []seccomp.SyscallGroup{
			{Names: denied, Action: seccomp.ActionErrno | seccomp.Action(unix.EPERM)},
			// clone3 answers "not implemented", so the C library and Go fall back to
			// clone, whose flags bubblewrap's --disable-userns already polices.
			{Names: []string{"clone3"}, Action: seccomp.ActionErrno | seccomp.Action(unix.ENOSYS)},
		},
	}
	insts, err := p.Assemble()
	if err != nil {
		return nil, err
	}
	raw, err := bpf.Assemble(insts)
	if err != nil {
		return nil, err
	}
	out := make([]byte, 0, 8*len(raw))
	for _, r := range raw {
		out = binary.NativeEndian.AppendUint16(out, r.Op)
		out = append(out, r.Jt, r.Jf)
		out = binary.NativeEndian.AppendUint32(out, r.K)
	}
	return out, nil
}
