package kernel

import (
	"os"
	"strconv"
	"strings"
	"syscall"
)

func dup2(oldfd, newfd int) error { return syscall.Dup3(oldfd, newfd, 0) }

// fSetPipeSize is Linux's F_SETPIPE_SZ fcntl.
const fSetPipeSize = 1031

// growPipe makes the pipe of fd as large as an unprivileged process may
// (/proc/sys/fs/pipe-max-size, 1 MiB by default; Linux's default is 64 KiB).
// Go's report of a fatal error (a stack overflow, running out of memory) is
// written to descriptor 2 while every goroutine is stopped, the one reading the
// pipe included: the report must fit in the pipe, or the dying kernel blocks on
// it forever. It returns the new size (0 when it could not grow the pipe).
func growPipe(fd uintptr) int {
	size := 1 << 20
	if b, err := os.ReadFile("/proc/sys/fs/pipe-max-size"); err == nil {
		if n, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && n > 0 {
			size = min(n, 16<<20)
		}
	}
	for ; size >= 64<<10; size /= 2 {
		n, _, errno := syscall.Syscall(syscall.SYS_FCNTL, fd, fSetPipeSize, uintptr(size))
		if errno == 0 {
			return int(n)
		}
	}
	return 0
}
