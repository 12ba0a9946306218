package kernel_test

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/golem-lm/golem/kernel"
)

// Install the kernelspec the way `golem install --prefix DIR` does.
func ExampleInstallKernelspec() {
	prefix, _ := os.MkdirTemp("", "golem-example-")
	defer os.RemoveAll(prefix)
	dir, _ := kernel.KernelsDir("prefix", prefix)
	path, err := kernel.InstallKernelspec(dir, "golem", kernel.NewKernelspec("/usr/local/bin/golem"))
	if err != nil {
		fmt.Println(err)
		return
	}
	entries, _ := os.ReadDir(path)
	for _, e := range entries {
		fmt.Println(e.Name())
	}
	rel, _ := filepath.Rel(prefix, path)
	fmt.Println(rel)
	// Output:
	// kernel.json
	// logo-32x32.png
	// logo-64x64.png
	// share/jupyter/kernels/golem
}

// Parse the connection file Jupyter hands the kernel.
func ExampleParseConnectionInfo() {
	ci, err := kernel.ParseConnectionInfo([]byte(`{"ip": "127.0.0.1", "transport": "tcp",
	  "shell_port": 50001, "iopub_port": 50002, "stdin_port": 50003, "control_port": 50004, "hb_port": 50005,
	  "key": "a0436f6c-1916-498b-8eb9-e81ab9368e84", "signature_scheme": "hmac-sha256"}`))
	fmt.Println(ci.ShellPort, ci.SignatureScheme, err)
	_, err = kernel.ParseConnectionInfo([]byte(`{"ip": "127.0.0.1", "transport": "tcp", "signature_scheme": "hmac-md5"}`))
	fmt.Println(err)
	// Output:
	// 50001 hmac-sha256 <nil>
	// unsupported signature_scheme "hmac-md5" (golem supports hmac-sha256)
}

// Every message is signed with HMAC-SHA256 over header, parent header, metadata and content.
func ExampleSigner() {
	s := kernel.NewSigner([]byte("secret"))
	sig := s.Sign([]byte(`{"msg_id":"1"}`), []byte(`{}`), []byte(`{}`), []byte(`{}`))
	fmt.Println(len(sig), s.Verify(sig, []byte(`{"msg_id":"1"}`), []byte(`{}`), []byte(`{}`), []byte(`{}`)))
	fmt.Println(s.Verify(sig, []byte(`{"msg_id":"2"}`), []byte(`{}`), []byte(`{}`), []byte(`{}`)))
	// Output:
	// 64 true
	// false
}
