package frontend

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
)

// goRoot is the root of the Go toolchain in use, as the go command reports
// it: the binary running this code may have been built elsewhere, so its
// own idea of GOROOT is not to be trusted.
var goRoot = sync.OnceValue(func() string {
	if root := os.Getenv("GOROOT"); root != "" {
		return root
	}
	out, err := exec.Command("go", "env", "GOROOT").Output()
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(out))
})

// GoTool returns the go command of the toolchain in use, so that what it
// builds matches the Go version of the server.
func GoTool() string {
	if root := goRoot(); root != "" {
		name := filepath.Join(root, "bin", "go")
		if _, err := os.Stat(name); err == nil {
			return name
		}
	}
	return "go"
}

// WasmExecJS returns the path of wasm_exec.js, the JavaScript support code
// that ships with the Go toolchain and must match the compiler's version.
func WasmExecJS() string {
	return filepath.Join(goRoot(), "lib", "wasm", "wasm_exec.js")
}
