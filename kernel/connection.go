package kernel

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
)

// ConnectionInfo is the content of the connection file Jupyter writes for a kernel:
// where to listen and how to sign messages.
type ConnectionInfo struct {
	Transport       string `json:"transport"` // "tcp" or "ipc"
	IP              string `json:"ip"`
	ShellPort       int    `json:"shell_port"`
	ControlPort     int    `json:"control_port"`
	IOPubPort       int    `json:"iopub_port"`
	StdinPort       int    `json:"stdin_port"`
	HBPort          int    `json:"hb_port"`
	Key             string `json:"key"`              // HMAC key; empty disables signing
	SignatureScheme string `json:"signature_scheme"` // "hmac-sha256" (or empty with an empty key)
	KernelName      string `json:"kernel_name,omitempty"`
}

// ReadConnectionFile reads and validates a Jupyter connection file.
func ReadConnectionFile(path string) (ConnectionInfo, error) {
	var ci ConnectionInfo
	b, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return ci, fmt.Errorf("connection file %s does not exist", path)
		}
		return ci, fmt.Errorf("read connection file %s: %w", path, err)
	}
	ci, err = ParseConnectionInfo(b)
	if err != nil {
		return ci, fmt.Errorf("connection file %s: %w", path, err)
	}
	return ci, nil
}

// ParseConnectionInfo decodes and validates connection-file JSON. A missing transport
// means tcp and a missing signature scheme means hmac-sha256, as in jupyter_client.
func ParseConnectionInfo(b []byte) (ConnectionInfo, error) {
	var ci ConnectionInfo
	if err := json.Unmarshal(b, &ci); err != nil {
		return ci, fmt.Errorf("bad JSON: %w", err)
	}
	if ci.Transport == "" {
		ci.Transport = "tcp"
	}
	if ci.Transport != "tcp" && ci.Transport != "ipc" {
		return ci, fmt.Errorf("unsupported transport %q (want tcp or ipc)", ci.Transport)
	}
	if ci.SignatureScheme == "" {
		ci.SignatureScheme = "hmac-sha256"
	}
	if ci.SignatureScheme != "hmac-sha256" {
		return ci, fmt.Errorf("unsupported signature_scheme %q (golem supports hmac-sha256)", ci.SignatureScheme)
	}
	if ci.IP == "" {
		return ci, errors.New("missing ip")
	}
	for _, p := range []struct {
		name string
		v    int
	}{{"shell_port", ci.ShellPort}, {"control_port", ci.ControlPort}, {"iopub_port", ci.IOPubPort}, {"stdin_port", ci.StdinPort}, {"hb_port", ci.HBPort}} {
		if p.v < 0 || p.v > 65535 {
			return ci, fmt.Errorf("%s %d out of range", p.name, p.v)
		}
		if p.v == 0 {
			return ci, fmt.Errorf("missing %s", p.name)
		}
	}
	return ci, nil
}

// endpoint is the ZeroMQ address of one channel: tcp://ip:port or ipc://ip-port.
func (ci ConnectionInfo) endpoint(port int) string {
	if ci.Transport == "ipc" {
		return fmt.Sprintf("ipc://%s-%d", ci.IP, port)
	}
	return fmt.Sprintf("tcp://%s:%d", ci.IP, port)
}
