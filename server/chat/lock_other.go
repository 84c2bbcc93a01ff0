//go:build !unix

package chat

import (
	"io"
	"os"
	"path/filepath"
)

// lockDir would lock the data directory dir against other processes;
// outside unix, it only notes its use in dir/LOCK: do not start two
// processes on one directory.
func lockDir(dir string) (io.Closer, error) {
	return os.OpenFile(filepath.Join(dir, "LOCK"), os.O_RDWR|os.O_CREATE, 0o600)
}
