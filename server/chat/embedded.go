package chat

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
)

// The default single process keeps its rooms in a NATS server embedded in
// it, with JetStream storing under a data directory. So the one process
// runs the same broker as instances that share an external NATS server,
// and a restart loses nothing. The embedded server listens on no port: the
// broker connects to it in-process.
//
// A process runs one embedded server per directory: opening a directory
// that it has open already shares that server; a directory that another
// process holds is refused, since two servers writing one store would
// corrupt it (lock_unix.go).
type embedded struct {
	dir  string
	ns   *server.Server
	lock io.Closer
	refs int // under embeddedMu
}

var (
	embeddedMu   sync.Mutex
	embeddedDirs = map[string]*embedded{} // by absolute directory
)

// embeddedStart bounds the start of an embedded server, which recovers
// every room's store.
const embeddedStart = time.Minute

// openEmbedded starts the embedded server storing under dir, or shares the
// one that runs already. Each call is to be matched by a call of release.
func openEmbedded(dir string, log *slog.Logger) (*embedded, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("chat: data directory %s: %w", dir, err)
	}
	embeddedMu.Lock()
	defer embeddedMu.Unlock()
	if e := embeddedDirs[abs]; e != nil {
		e.refs++
		return e, nil
	}
	if err := os.MkdirAll(abs, 0o700); err != nil {
		return nil, fmt.Errorf("chat: creating the data directory: %w", err)
	}
	lock, err := lockDir(abs)
	if err != nil {
		return nil, err
	}
	ns, err := server.NewServer(&server.Options{
		ServerName:         "duplex-chat",
		DontListen:         true,
		JetStream:          true,
		StoreDir:           abs,
		JetStreamMaxMemory: 64 << 20, // the consumers are in memory; the rooms are on disk
		NoSigs:             true,
	})
	if err != nil {
		lock.Close()
		return nil, fmt.Errorf("chat: the embedded NATS server: %w", err)
	}
	ns.SetLoggerV2(natsLog{log}, false, false, false)
	ns.Start()
	if !ns.ReadyForConnections(embeddedStart) {
		ns.Shutdown()
		lock.Close()
		return nil, fmt.Errorf("chat: the embedded NATS server did not start within %v", embeddedStart)
	}
	e := &embedded{dir: abs, ns: ns, lock: lock, refs: 1}
	embeddedDirs[abs] = e
	return e, nil
}

// connect opens an in-process connection to the server.
func (e *embedded) connect() (*nats.Conn, error) {
	nc, err := nats.Connect("", nats.InProcessServer(e.ns), nats.Name("duplex chat"), nats.MaxReconnects(-1))
	if err != nil {
		return nil, fmt.Errorf("chat: connecting to the embedded NATS server: %w", err)
	}
	return nc, nil
}

// release shuts the server down once every opener has released it.
func (e *embedded) release() {
	embeddedMu.Lock()
	defer embeddedMu.Unlock()
	if e.refs--; e.refs > 0 {
		return
	}
	delete(embeddedDirs, e.dir)
	e.ns.Shutdown()
	e.ns.WaitForShutdown()
	e.lock.Close()
}

// natsLog passes the embedded server's warnings and errors to the
// process's log, and its notices at debug level.
type natsLog struct{ log *slog.Logger }

func (l natsLog) Noticef(format string, v ...any) { l.log.Debug("nats: " + fmt.Sprintf(format, v...)) }
func (l natsLog) Warnf(format string, v ...any)   { l.log.Warn("nats: " + fmt.Sprintf(format, v...)) }
func (l natsLog) Fatalf(format string, v ...any)  { l.log.Error("nats: " + fmt.Sprintf(format, v...)) }
func (l natsLog) Errorf(format string, v ...any)  { l.log.Error("nats: " + fmt.Sprintf(format, v...)) }
func (l natsLog) Debugf(string, ...any)           {}
func (l natsLog) Tracef(string, ...any)           {}
