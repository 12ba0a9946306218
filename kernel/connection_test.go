package kernel

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseConnectionInfo(t *testing.T) {
	good := `{"shell_port": 1, "iopub_port": 2, "stdin_port": 3, "control_port": 4, "hb_port": 5,
	  "ip": "127.0.0.1", "key": "k", "transport": "tcp", "signature_scheme": "hmac-sha256", "kernel_name": "golem"}`
	ci, err := ParseConnectionInfo([]byte(good))
	if err != nil {
		t.Fatal(err)
	}
	if got := ci.endpoint(ci.ShellPort); got != "tcp://127.0.0.1:1" {
		t.Fatalf("endpoint %q", got)
	}
	ci.Transport, ci.IP = "ipc", "/tmp/kernel-ipc"
	if got := ci.endpoint(5); got != "ipc:///tmp/kernel-ipc-5" {
		t.Fatalf("ipc endpoint %q", got)
	}
	bad := []struct{ json, want string }{
		{`{`, "bad JSON"},
		{strings.Replace(good, `"tcp"`, `"udp"`, 1), `unsupported transport "udp"`},
		{strings.Replace(good, `hmac-sha256`, `hmac-md5`, 1), `unsupported signature_scheme "hmac-md5"`},
		{strings.Replace(good, `"hb_port": 5`, `"hb_port": 0`, 1), "missing hb_port"},
		{strings.Replace(good, `"shell_port": 1`, `"shell_port": 70000`, 1), "shell_port 70000 out of range"},
		{strings.Replace(good, `"ip": "127.0.0.1"`, `"ip": ""`, 1), "missing ip"},
	}
	for _, b := range bad {
		if _, err := ParseConnectionInfo([]byte(b.json)); err == nil || !strings.Contains(err.Error(), b.want) {
			t.Errorf("%s: error %v, want %q", b.json, err, b.want)
		}
	}
}

func TestReadConnectionFile(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "nope.json")
	if _, err := ReadConnectionFile(missing); err == nil || !strings.Contains(err.Error(), missing) || !strings.Contains(err.Error(), "does not exist") {
		t.Fatalf("missing file: %v", err)
	}
	p := filepath.Join(dir, "bad.json")
	os.WriteFile(p, []byte(`{"ip": 7}`), 0o600)
	if _, err := ReadConnectionFile(p); err == nil || !strings.Contains(err.Error(), p) || !strings.Contains(err.Error(), "bad JSON") {
		t.Fatalf("bad file: %v", err)
	}
}
